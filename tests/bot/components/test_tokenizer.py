"""The script-normalising tokenizer."""

from __future__ import annotations

from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.components.tokenizer import ChineseTokenizer, to_simplified


def test_traditional_text_maps_onto_simplified_with_the_same_length() -> None:
    assert to_simplified("我的訂單到哪裡了") == "我的订单到哪里了"
    assert to_simplified("order 20241105001 到哪了") == "order 20241105001 到哪了"


def test_both_scripts_give_the_same_tokens_at_the_same_offsets(tmp_path) -> None:
    tokenizer = ChineseTokenizer(
        ChineseTokenizer.get_default_config(), LocalModelStorage(tmp_path), Resource("tok")
    )
    simplified = tokenizer.tokenize(Message({"text": "订单20241105001物流到哪了"}), "text")
    traditional = tokenizer.tokenize(Message({"text": "訂單20241105001物流到哪了"}), "text")
    assert [t.text for t in simplified] == [t.text for t in traditional]
    assert [(t.start, t.end) for t in simplified] == [(t.start, t.end) for t in traditional]
    assert "20241105001" in [t.text for t in traditional]
