"""The assistant's data: valid for Rasa, true to the intent contract, three scripts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from actions.order_ids import ORDER_ID
from bot.common.languages import detect_language

ROOT = Path(__file__).resolve().parents[1]
# docs/intents.md, the contract: exactly these intents and retrieval intents.
CONTRACT_INTENTS = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "request_human",
    "complain",
    "out_of_scope",
    "check_order_status",
    "track_shipment",
    "cancel_order",
    "change_address",
    "urge_shipment",
    "inform_order_id",
    "request_refund",
    "request_return",
    "request_exchange",
    "report_defect",
    "check_refund_progress",
}
CONTRACT_FAQS = {
    "shipping_time",
    "shipping_fee",
    "return_policy",
    "payment_methods",
    "invoice",
    "warranty",
    "membership",
    "coupon",
    "product_usage",
    "business_hours",
}
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
MIN_EXAMPLES = {"zh-Hans": 20, "zh-Hant": 10, "en": 15}


@pytest.fixture(scope="module")
def training():
    return load_data(str(ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def holdout():
    return load_data(str(ROOT / "tests" / "nlu_holdout"))


@pytest.fixture(scope="module")
def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]+", "", text)


def test_rasa_validates_the_data(tmp_path: Path) -> None:
    """``rasa data validate`` passes; the only warnings it may give are understood.

    Responses that custom actions send (not rules) are reported as "not used
    in any story or rule": each must really be sent from ``actions/``, or be
    a question the order form asks for one of its slots. Rasa
    also reports the retrieval intent ``faq`` as listed twice, once by the
    domain and once by the NLU data it merges in; the domain must list it.
    """
    rasa = os.path.join(os.path.dirname(sys.executable), "rasa")
    result = subprocess.run(
        [rasa, "data", "validate", "--fail-on-warnings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = re.findall(r"UserWarning: (.*)", output)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    form_questions = {
        f"utter_ask_{slot}" for form in domain["forms"].values() for slot in form["required_slots"]
    }
    actions_code = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
    unexplained = []
    for warning in warnings:
        unused = re.match(r"The utterance '(\w+)' is not used in any story or rule", warning)
        if unused and f'"{unused.group(1)}"' in actions_code:
            continue
        if unused and unused.group(1) in form_questions:
            continue  # the form asks these itself
        if warning.startswith(
            "The following duplicated intents have been found"
        ) and warning.endswith(": faq"):
            continue
        unexplained.append(warning)
    assert not unexplained, unexplained


def test_intents_are_exactly_the_contract(training, domain) -> None:
    assert set(domain["intents"]) == CONTRACT_INTENTS | {"faq"}
    trained = {e.get("intent") for e in training.intent_examples}
    assert trained == CONTRACT_INTENTS | {"faq"}
    faqs = {
        e.get_full_intent().split("/", 1)[1]
        for e in training.intent_examples
        if e.get("intent") == "faq"
    }
    assert faqs == CONTRACT_FAQS
    assert set(domain["entities"]) == {"order_id"}


def test_every_intent_is_taught_in_three_scripts(training) -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    for example in training.intent_examples:
        language = detect_language(example.get("text")) or "none"
        counts[example.get_full_intent()][language] += 1
    short = {
        intent: dict(counter)
        for intent, counter in counts.items()
        if intent != "inform_order_id"
        and any(counter[lang] < MIN_EXAMPLES[lang] for lang in LANGUAGES)
    }
    assert not short, f"intents with too few examples per script: {short}"


def test_holdout_is_never_trained_on(training, holdout) -> None:
    trained = {_normalise(e.get("text")) for e in training.intent_examples}
    leaked = [
        e.get("text") for e in holdout.intent_examples if _normalise(e.get("text")) in trained
    ]
    assert not leaked
    assert len(holdout.intent_examples) >= 300


def test_holdout_covers_every_intent(training, holdout) -> None:
    assert {e.get_full_intent() for e in holdout.intent_examples} == {
        e.get_full_intent() for e in training.intent_examples
    }


@pytest.mark.parametrize("which", ["training", "holdout"])
def test_order_numbers_are_annotated_exactly_where_the_regex_finds_them(which, request) -> None:
    data = request.getfixturevalue(which)
    wrong = []
    for example in data.intent_examples:
        text = example.get("text")
        found = {(m.start(), m.end()) for m in ORDER_ID.finditer(text)}
        annotated = {
            (e["start"], e["end"])
            for e in example.get("entities") or []
            if e["entity"] == "order_id"
        }
        if found != annotated:
            wrong.append(text)
    assert not wrong, wrong[:20]


def test_every_response_exists_in_every_language(domain) -> None:
    missing = {}
    for name, variations in domain["responses"].items():
        languages = set()
        for variation in variations:
            conditions = variation.get("condition") or []
            values = [c["value"] for c in conditions if c.get("name") == "language"]
            languages.add(values[0] if values else "zh-Hans")
        if languages != set(LANGUAGES):
            missing[name] = sorted(languages)
    assert not missing


def test_traditional_variations_are_written_in_traditional_script(domain) -> None:
    for name, variations in domain["responses"].items():
        for variation in variations:
            values = [c["value"] for c in variation.get("condition") or []]
            if values == ["zh-Hant"]:
                assert detect_language(variation["text"], "zh-Hans") == "zh-Hant", name
