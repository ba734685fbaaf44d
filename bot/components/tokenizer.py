"""The pipeline's tokenizer (``config.yml``): Jieba over the Simplified form of the text."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from opencc import OpenCC
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@lru_cache(maxsize=1)
def _to_simplified() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=65536)
def _simplified_char(char: str) -> str:
    converted: str = _to_simplified().convert(char)
    # Character by character, so that offsets into the original text hold.
    return converted if len(converted) == 1 else char


def to_simplified(text: str) -> str:
    """Maps Traditional characters onto Simplified ones, keeping the length."""
    return "".join(_simplified_char(char) for char in text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ChineseTokenizer(JiebaTokenizer):
    """Jieba over the Simplified form of the text.

    Customers write 訂單 and 订单 for the same thing; tokenizing one script
    lets both share every feature learned from either, while token offsets
    still point into the customer's own text.
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the Simplified form of ``attribute``'s text."""
        import jieba

        text: str = message.get(attribute)
        tokens = [Token(word, start) for word, start, _ in jieba.tokenize(to_simplified(text))]
        return self._apply_token_pattern(tokens)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Same defaults as Rasa's Jieba tokenizer."""
        return JiebaTokenizer.get_default_config()
