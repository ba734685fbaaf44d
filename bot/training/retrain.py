"""``bot retrain``: from the trainers' labels to a served model, behind a gate.

1. The labels (a file, or the handoff service's export) are written to
   ``data/nlu/annotations.yml`` (see :mod:`bot.training.labels`).
2. The data is validated with Rasa's own validator (what ``rasa data
   validate`` runs): domain, NLU (intents known, no text under two intents)
   and the story structure.
3. A candidate is trained on all the data. Always a full training: Rasa's
   ``--finetune`` would load our ``LinearIntentClassifier`` and then fit it
   again from scratch (a linear SVM with calibration has no incremental fit,
   and the TF-IDF vocabulary must grow with the new words), so it would only
   add the restriction of an unchanged domain and config. What a retrain
   saves instead: the sentence vectors of texts seen before come from
   :mod:`bot.components.vector_cache`, and Rasa's training cache skips the dialogue
   policies when only NLU data changed.
4. Candidate and serving model are scored on the held-out split; per-intent
   F1 of both is printed side by side. Scores are kept beside each model
   (:func:`~bot.training.evaluate.evaluate_cached`), so the serving model, usually the
   previous retrain's candidate, is not scored twice.
5. The candidate is promoted (:mod:`bot.training.promotion`) only when accuracy and
   macro F1 are not worse than the serving model's beyond the tolerance,
   and no intent's F1 beyond the per-intent tolerance (:mod:`bot.training.gate`).
   Otherwise the serving model stays, the annotations file is restored, and
   :class:`~bot.errors.GateRefused` says why.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.errors import DataInvalid, GateRefused
from bot.settings import PROJECT_ROOT
from bot.training import labels as labels_module
from bot.training.evaluate import HOLDOUT_DIR, Scores, evaluate_cached, scores_file
from bot.training.gate import (
    DEFAULT_INTENT_TOLERANCE,
    DEFAULT_TOLERANCE,
    Verdict,
    judge,
    side_by_side,
)
from bot.training.labels import ANNOTATIONS_FILE, Label
from bot.training.model_cache import fingerprint, train_validated
from bot.training.promotion import promote, record_baseline, serving_model
from bot.training.rasa_server import RasaServer
from bot.training.registry import ModelVersion, Registry

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a retrain did."""

    serving: Scores
    candidate: Scores | None = None
    verdict: Verdict | None = None
    promoted: ModelVersion | None = None
    train_seconds: float = 0.0
    dropped: list[str] = field(default_factory=list)


def known_intents(root: Path) -> tuple[set[str], set[str]]:
    """Full intents a label may name and the domain's entities."""
    from rasa.shared.nlu.training_data.loading import load_data

    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    intents = {name if isinstance(name, str) else next(iter(name)) for name in domain["intents"]}
    annotations = (root / ANNOTATIONS_FILE).resolve()
    for path in sorted((root / "data" / "nlu").rglob("*.yml")):
        if path.resolve() != annotations:
            intents |= {e.get_full_intent() for e in load_data(str(path)).intent_examples}
    retrieval = {intent.split("/", 1)[0] for intent in intents if "/" in intent}
    entities = {name if isinstance(name, str) else next(iter(name)) for name in domain["entities"]}
    return intents - retrieval, entities


def validate(root: Path) -> None:
    """Rasa's validation of domain, NLU data and stories; warnings that mean broken data fail.

    Raises:
        DataInvalid: With Rasa's messages.
    """
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    importer = TrainingDataImporter.load_from_config(
        str(root / "config.yml"), str(root / "domain.yml"), [str(root / "data")]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator = Validator.from_importer(importer)
        checks = {
            "domain": validator.verify_domain_validity(),
            "actions in stories and rules": validator.verify_actions_in_stories_rules(),
            "forms in stories and rules": validator.verify_forms_in_stories_rules(),
            "form slots": validator.verify_form_slots(),
            "slot mappings": validator.verify_slot_mappings(),
            "intents": validator.verify_intents(ignore_warnings=False),
            "examples under one intent": validator.verify_example_repetition_in_intents(
                ignore_warnings=False
            ),
            "story structure": validator.verify_story_structure(ignore_warnings=False),
        }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        messages = "\n".join(f"  {warning.message}" for warning in caught)
        raise DataInvalid(f"the data does not validate ({', '.join(failed)}):\n{messages}")


def export(root: Path, labels: list[Label]) -> labels_module.Export:
    """Writes the labels that may be trained on to the annotations file."""
    intents, entities = known_intents(root)
    prepared = labels_module.prepare(
        labels,
        data_dir=root / "data" / "nlu",
        holdout_dir=HOLDOUT_DIR,
        annotations=root / ANNOTATIONS_FILE,
        intents=intents,
        entities=entities,
    )
    (root / ANNOTATIONS_FILE).write_text(labels_module.render(prepared.labels), encoding="utf-8")
    return prepared


def retrain(
    labels: list[Label],
    *,
    root: Path = PROJECT_ROOT,
    server: RasaServer,
    registry: Registry,
    tolerance: float = DEFAULT_TOLERANCE,
    intent_tolerance: float = DEFAULT_INTENT_TOLERANCE,
    say: Callable[[str], None] = print,
    redis_url: str | None = None,
) -> Outcome:
    """Exports, validates, trains, evaluates and promotes or refuses.

    Raises:
        DataInvalid: The data with the labels does not validate.
        GateRefused: The candidate is worse beyond ``tolerance`` (or one intent
            beyond ``intent_tolerance``); nothing changed.
    """
    models_dir = root / "models"
    status = server.status()
    serving_path, serving_version = serving_model(
        models_dir, registry, status.get("model_id") if status else None
    )
    say(f"serving model: {serving_path}" + ("" if status else " (Rasa not running)"))
    annotations_file = root / ANNOTATIONS_FILE
    before = annotations_file.read_text("utf-8") if annotations_file.exists() else None
    serving_fingerprint = serving_version.fingerprint if serving_version else fingerprint(root)
    candidate: Path | None = None
    done = pre_existing = False
    try:
        prepared = export(root, labels)
        for line in prepared.dropped:
            say(line)
        say(f"{len(prepared.labels)} labelled examples in {ANNOTATIONS_FILE}")
        validate(root)
        data_fingerprint = fingerprint(root)
        candidate = models_dir / f"shop-{data_fingerprint}.tar.gz"
        if candidate.resolve() == serving_path:
            done = True
            say("the data is that of the serving model: nothing to retrain")
            return Outcome(serving=evaluate_cached(serving_path), dropped=prepared.dropped)
        pre_existing = candidate.exists()  # e.g. trained before, then rolled back
        say(
            "training the candidate"
            " (full training: fine-tuning does not apply, see bot/training/retrain.py)"
        )
        started = time.monotonic()
        if not candidate.exists():
            train_validated(candidate, root)
        seconds = time.monotonic() - started
        say(f"trained in {seconds:.0f} s; scoring both models on {HOLDOUT_DIR.name}")
        serving_scores = evaluate_cached(serving_path)
        candidate_scores = evaluate_cached(candidate)
        say(side_by_side(serving_scores, candidate_scores, tolerance))
        verdict = judge(serving_scores, candidate_scores, tolerance, intent_tolerance)
        outcome = Outcome(
            serving_scores, candidate_scores, verdict, None, seconds, prepared.dropped
        )
        if not verdict.promote:
            raise GateRefused("; ".join(verdict.reasons))
        if serving_version is None:
            baseline = record_baseline(
                serving_path,
                registry=registry,
                fingerprint=serving_fingerprint,
                scores=serving_scores,
                annotations=before,
            )
            say(f"registered the serving model as version {baseline.version}")
        outcome.promoted = promote(
            candidate,
            server=server,
            registry=registry,
            fingerprint=data_fingerprint,
            scores=candidate_scores,
            annotations=annotations_file.read_text("utf-8"),
            note=f"{len(prepared.labels)} labelled examples",
            redis_url=redis_url,
        )
        done = True
        say(f"promoted version {outcome.promoted.version}: {verdict.reasons[0]}")
        return outcome
    finally:
        if not done:
            _restore(annotations_file, before)
            if candidate is not None and not pre_existing:
                candidate.unlink(missing_ok=True)
                scores_file(candidate).unlink(missing_ok=True)


def _restore(annotations_file: Path, content: str | None) -> None:
    # A refused or failed retrain leaves the data as it was, so the next
    # `bot run` or `make test` does not train on labels the gate refused.
    if content is None:
        annotations_file.unlink(missing_ok=True)
    else:
        annotations_file.write_text(content, encoding="utf-8")
