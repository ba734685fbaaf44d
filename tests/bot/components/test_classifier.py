"""The linear intent classifier: training, FAQ selection, storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.classifier import LinearIntentClassifier
from bot.components.tokenizer import ChineseTokenizer

EXAMPLES = {
    "track_shipment": [
        "我的快递到哪了",
        "物流到哪里了",
        "where is my parcel",
        "包裹到哪了呀",
        "tracking please",
        "快遞到哪裡了",
        "has my package shipped yet",
    ],
    "greet": ["你好", "在吗", "hi", "hello there", "亲 在不在", "哈囉", "hey"],
    "faq/shipping_fee": [
        "运费多少",
        "包邮吗",
        "how much is shipping",
        "邮费怎么算",
        "is delivery free",
        "運費多少錢",
        "满多少包邮",
    ],
    "faq/invoice": [
        "能开发票吗",
        "怎么开票",
        "can i get an invoice",
        "发票怎么申请",
        "vat invoice please",
        "可以開發票嗎",
        "电子发票有吗",
    ],
}


def _message(text: str, tokenizer: ChineseTokenizer, intent: str | None = None) -> Message:
    data: dict[str, str] = {"text": text}
    if intent:
        parent, _, key = intent.partition("/")
        data["intent"] = parent
        if key:
            data["intent_response_key"] = intent
    message = Message(data)
    tokenizer.process([message])
    return message


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def tokenizer(storage: LocalModelStorage) -> ChineseTokenizer:
    return ChineseTokenizer(ChineseTokenizer.get_default_config(), storage, Resource("tok"))


@pytest.fixture
def trained(storage: LocalModelStorage, tokenizer: ChineseTokenizer) -> LinearIntentClassifier:
    examples = [
        _message(text, tokenizer, intent) for intent, texts in EXAMPLES.items() for text in texts
    ]
    responses = {"utter_faq/shipping_fee": [{"text": "满 99 元包邮"}]}
    classifier = LinearIntentClassifier.create(
        {"calibration_folds": 3},
        storage,
        Resource("linear"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    classifier.train(TrainingData(training_examples=examples, responses=responses))
    return classifier


def test_predicts_plain_intents_with_a_ranking_of_parent_intents(
    trained: LinearIntentClassifier, tokenizer: ChineseTokenizer
) -> None:
    message = _message("我的包裹到哪里了", tokenizer)
    trained.process([message])
    assert message.get("intent")["name"] == "track_shipment"
    names = [entry["name"] for entry in message.get("intent_ranking")]
    assert set(names) == {"track_shipment", "greet", "faq"}
    confidences = [entry["confidence"] for entry in message.get("intent_ranking")]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)


def test_faq_keys_are_published_like_a_response_selector(
    trained: LinearIntentClassifier, tokenizer: ChineseTokenizer
) -> None:
    message = _message("運費怎麼算", tokenizer)
    trained.process([message])
    assert message.get("intent")["name"] == "faq"
    selection = message.get("response_selector")
    assert selection["all_retrieval_intents"] == ["faq"]
    response = selection["faq"]["response"]
    assert response["intent_response_key"] == "faq/shipping_fee"
    assert response["utter_action"] == "utter_faq/shipping_fee"
    assert response["responses"] == [{"text": "满 99 元包邮"}]
    ranking = selection["faq"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/shipping_fee"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_a_stored_model_loads_and_predicts_the_same(
    trained: LinearIntentClassifier, storage: LocalModelStorage, tokenizer: ChineseTokenizer
) -> None:
    loaded = LinearIntentClassifier.load(
        {}, storage, Resource("linear"), ExecutionContext(GraphSchema({}), "test")
    )
    for text in ("hello", "发票能开吗", "where's my package"):
        before, after = _message(text, tokenizer), _message(text, tokenizer)
        trained.process([before])
        loaded.process([after])
        assert before.get("intent") == after.get("intent")


def test_an_untrained_classifier_leaves_messages_alone(
    storage: LocalModelStorage, tokenizer: ChineseTokenizer
) -> None:
    classifier = LinearIntentClassifier.load(
        {}, storage, Resource("missing"), ExecutionContext(GraphSchema({}), "test")
    )
    message = _message("你好", tokenizer)
    classifier.process([message])
    assert message.get("intent") is None


def test_sentence_embeddings_are_stacked_in_and_stored(
    storage: LocalModelStorage, tokenizer: ChineseTokenizer
) -> None:
    examples = [
        _message(text, tokenizer, intent) for intent, texts in EXAMPLES.items() for text in texts
    ]
    config = {"calibration_folds": 3, "sentence_encoder_weight": 1.0}
    context = ExecutionContext(GraphSchema({}), "test")
    plain = LinearIntentClassifier.create({"calibration_folds": 3}, storage, Resource("p"), context)
    plain.train(TrainingData(training_examples=examples))
    mixed = LinearIntentClassifier.create(config, storage, Resource("m"), context)
    mixed.train(TrainingData(training_examples=examples))
    # The weight the model was trained with comes from the stored model.
    loaded = LinearIntentClassifier.load({}, storage, Resource("m"), context)
    text = "has my parcel been sent"
    results = []
    for classifier in (plain, mixed, loaded):
        message = _message(text, tokenizer)
        classifier.process([message])
        results.append(message.get("intent_ranking"))
    assert results[1][0]["name"] == "track_shipment"
    assert results[1] == results[2]
    # The embedding model really takes part: the confidences differ.
    assert results[0][0]["confidence"] != pytest.approx(results[1][0]["confidence"])


def test_a_negative_encoder_weight_is_refused(storage: LocalModelStorage) -> None:
    with pytest.raises(ValueError, match="sentence_encoder_weight"):
        LinearIntentClassifier.create(
            {"sentence_encoder_weight": -0.5},
            storage,
            Resource("bad"),
            ExecutionContext(GraphSchema({}), "test"),
        )


def test_without_the_ensemble_one_svm_is_calibrated_by_the_folds(
    storage: LocalModelStorage, tokenizer: ChineseTokenizer
) -> None:
    examples = [
        _message(text, tokenizer, intent) for intent, texts in EXAMPLES.items() for text in texts
    ]
    context = ExecutionContext(GraphSchema({}), "test")
    config = {"calibration_folds": 3, "calibration_ensemble": False}
    single = LinearIntentClassifier.create(config, storage, Resource("single"), context)
    single.train(TrainingData(training_examples=examples))
    calibrated = single._model.named_steps["classifier"].calibrated_classifiers_
    assert len(calibrated) == 1  # an ensemble would keep one per fold
    loaded = LinearIntentClassifier.load(config, storage, Resource("single"), context)
    for text in ("你好", "我的包裹到哪里了", "運費怎麼算"):
        before, after = _message(text, tokenizer), _message(text, tokenizer)
        single.process([before])
        loaded.process([after])
        assert before.get("intent") == after.get("intent")
    parcel = _message("我的包裹到哪里了", tokenizer)
    single.process([parcel])
    assert parcel.get("intent")["name"] == "track_shipment"


def test_primed_vectors_give_the_same_parse_without_encoding_again(
    storage: LocalModelStorage, tokenizer: ChineseTokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.components import encoder as encoder_module
    from bot.components import features as features_module

    examples = [
        _message(text, tokenizer, intent) for intent, texts in EXAMPLES.items() for text in texts
    ]
    context = ExecutionContext(GraphSchema({}), "test")
    config = {"calibration_folds": 3, "sentence_encoder_weight": 1.0}
    model = LinearIntentClassifier.create(config, storage, Resource("primed"), context)
    model.train(TrainingData(training_examples=examples))
    texts = ["我的包裹到哪里了", "hello", "運費怎麼算"]
    plain = [_message(text, tokenizer) for text in texts]
    model.process(plain)
    features_module.prime_sentence_vectors(texts)
    try:

        def no_encoder() -> None:
            raise AssertionError("primed texts must not be encoded again")

        monkeypatch.setattr(encoder_module, "shared_encoder", no_encoder)
        primed = [_message(text, tokenizer) for text in texts]
        model.process(primed)
    finally:
        features_module.prime_sentence_vectors([])
    for before, after in zip(plain, primed, strict=True):
        assert before.get("intent")["name"] == after.get("intent")["name"]
        assert before.get("intent")["confidence"] == pytest.approx(
            after.get("intent")["confidence"], abs=1e-4
        )
