"""Language: `<html lang>` / Content-Language / metadata codes, else a small stop-word vote;
answered as the babel/polyglossia names biblatex's `langid` expects."""

from __future__ import annotations

import re

BABEL = {"de": "ngerman", "en": "english", "ru": "russian", "fr": "french", "it": "italian",
         "es": "spanish", "nl": "dutch", "pl": "polish", "uk": "ukrainian", "pt": "portuguese",
         "cs": "czech", "sv": "swedish", "da": "danish", "nb": "norsk", "no": "norsk",
         "nn": "nynorsk", "fi": "finnish", "hu": "magyar", "tr": "turkish", "el": "greek",
         "be": "belarusian", "bg": "bulgarian", "sr": "serbian", "hr": "croatian",
         "sk": "slovak", "sl": "slovene", "ro": "romanian", "lt": "lithuanian",
         "lv": "latvian", "et": "estonian", "ca": "catalan", "he": "hebrew", "ar": "arabic",
         "ja": "japanese", "zh": "chinese", "ko": "korean", "la": "latin"}
_ENGLISH_VARIANTS = {"us": "american", "gb": "british", "uk": "british"}

# A few hundred of the commonest words decide between the languages a press archive meets.
_STOPWORDS = {
    "de": "der die das und ist nicht ein eine mit sich auf für dem den des von zu im auch "
          "wird werden sind wie bei nach noch über aus oder aber wurde hat vor zum zur",
    "en": "the and of to in is that for it with as was on be by this are at from have "
          "has an which not but were they their been would will",
    "ru": "и в не на что с по как это он она из к за от для но так же его ее они был "
          "была были бы или при уже только",
    "uk": "і в не на що з по як це він вона із до за від для але так його її вони був "
          "була були або при вже тільки",
    "fr": "le la les et des est une un du que pour dans pas qui sur au avec ce plus par "
          "sont ont été cette aux",
    "it": "il di che la e è per un una non sono del della con si le da gli nel alla anche",
    "es": "el la de que y en los del se las por un una para con no es al lo como más",
    "nl": "de het een en van is dat niet op te zijn voor met die aan er ook als bij",
    "pl": "i w nie na się z że do to jest jak o po ale co za od jego tak przez",
}
_WORDS = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+", re.U)


def from_code(code: str | None) -> str | None:
    """'de-DE' / 'de_AT' / 'ru' / 'english' -> the babel name, or None for unknown codes."""
    if not code:
        return None
    code = code.strip().split(",")[0].strip().lower().replace("_", "-")
    if code in BABEL.values() or code in ("american", "british", "german", "naustrian"):
        return code
    main, _, region = code.partition("-")
    if main == "en" and region in _ENGLISH_VARIANTS:
        return _ENGLISH_VARIANTS[region]
    return BABEL.get(main)


def detect(text: str) -> str | None:
    """The babel name of the language most of `text`'s common words belong to, or None."""
    tokens = _TOKEN.findall(text[:20000].lower())
    if len(tokens) < 8:
        return None
    scores = {lang: sum(1 for t in tokens if t in words) for lang, words in _WORDS.items()}
    best = max(scores, key=scores.get)
    if scores[best] < max(3, len(tokens) // 50):
        return None
    return BABEL[best]


_BASE = {"american": "english", "british": "english", "naustrian": "ngerman",
         "german": "ngerman", "nswissgerman": "ngerman", "nynorsk": "norsk"}


def base(babel: str) -> str:
    """The language behind a regional variant: american -> english."""
    return _BASE.get(babel, babel)
