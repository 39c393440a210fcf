"""Follow-up questions without an LLM: carry the previous turn's topic (its words, names and the
article it was answered from) into an elliptical follow-up.

Three kinds of follow-up, decided from the question alone (pure functions, no retrieval):

- `switch`: 那橘郡呢？ / what about Penang? — a new subject in the previous question's frame
  (rag/rewrite.py's rule); the new subject may live in another article, so nothing is restricted.
- `elliptical`: 那是誰帶隊的？ / 他們去了幾天？ / When? — no name of its own (or a pronoun standing
  for the previous subject): the previous question's topic words are carried in, and retrieval is
  restricted to the articles the previous answer was answered from.
- `new`: a question that names its own subject is asked as it is.

A follow-up that is elliptical only because it names nothing the analyser knows as a name (no
pronoun, no 那/還有 leading it) keeps its own content words (`FollowUp.own`): when one of them is
absent from the previous articles and held by another article the question finds as asked
(燈塔計畫是什麼？ after a question on the Penang visit), the user changed topic, and the Assistant
asks it as a new question (`absent_words`, `switched_topic`). In the history, such a turn shows
itself by its answer: cited from articles disjoint from the previous turn's.

The history is what the UI and the eval pass: dicts with `role` and `content`; an assistant turn
may say which articles it cited (`article_ids`, see `history_of`). A chain (turn 3 refers to turn
2, which referred to turn 1) is resolved turn by turn from the first question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rag.digest import asks_latest, summary_topic
from rag.lang import Lang, detect_language
from rag.mentions import searched_topic
from rag.rewrite import ASK_WORDS, message_text, rewrite_by_rule, turns
from rag.schema import Answer, Passage
from rag.smalltalk import kind_of
from rag.text import fold

NEW, SWITCH, ELLIPTICAL = "new", "switch", "elliptical"
# Words that stand for the previous turn's subject; a question led by one (or holding only one
# as its subject) is about that subject even when it names something else too.
ANAPHORA = re.compile(
    r"^\s*(?:那麼|那么|至於|至于|還有|还有|另外|而且|那)?\s*"
    r"(?:他們|她們|它們|他们|她们|它们|他|她|它|其|該|该|此|這些|这些|那些|這個|这个|那個|那个|"
    r"這次|这次|那次|這裡|这里|那裡|那里|雙方|双方|兩人|两人|對方|对方)"
    r"|\b(?:it|its|they|them|their|there|he|him|his|she|her|those|these|one)\b", re.I)
# Connectives that open a follow-up and carry no content: 那, 還有, and, so, also. 那 before a
# measure word is "that" (那次, 那天) and stays: stripped, 那次是誰帶隊？ became
# "<topic>，次是誰帶隊？".
LEAD = re.compile(r"^\s*(?:那麼|那么|至於|至于|還有|还有|另外|而且|"
                  r"那(?![次天時时年個个位些裡里場场]))\s*"
                  r"|^\s*(?:and|so|also|then)\b\s*", re.I)
# A Chinese pronoun in subject position, replaced by the carried topic: "他們去了幾天" ->
# "<topic>，去了幾天" (as a content word it would have to match the answer's sentence: on the
# tuning dialogues it turned d003.2 from a refusal into the right answer).
SUBJECT_PRONOUN = re.compile(
    r"^\s*(?:他們|她們|它們|他们|她们|它们|他|她|它|其|該|该|此|這些|这些|那些|雙方|双方|兩人|两人)")
# A question word with the ordinal or measure word that belongs to it (第幾個, 幾天, 哪一場).
_ASK_SPAN = re.compile(
    r"第?(?:" + ASK_WORDS.pattern + r")[一]?[個个位天年月日次家項项所種种名場场大]?", re.I)
_TRAILING = re.compile(r"[\s?？!！。.,，、;；:：]+$")
# A copula left at the end once the question word is gone: 燈塔計畫是什麼 -> 燈塔計畫, not
# 燈塔計畫是 (為 is not one: 成為 would lose it).
_COPULA_END = re.compile(r"(?<=[\u3400-\u9fff])(?:是|叫做|叫)$")


@dataclass(frozen=True)
class FollowUp:
    """How to ask a question in its conversation: the stand-alone `question` (for retrieval and
    the answerer), the `articles` retrieval is restricted to (empty: no restriction), and which
    `kind` of follow-up it was (new | switch | elliptical)."""

    question: str
    articles: tuple[str, ...] = ()
    kind: str = NEW
    subject: str = ""  # the topic words a later elliptical follow-up carries
    # An elliptical follow-up not anchored by a pronoun or 那/還有: its own content words, which
    # tell a change of topic (`absent_words`); empty for every other follow-up.
    own: tuple[str, ...] = ()

    def carried(self) -> str:
        return self.subject or topic(self.question)


@dataclass(frozen=True)
class _Turn:
    question: str
    articles: tuple[str, ...]


def history_of(answers: Sequence[Answer]) -> list[dict[str, Any]]:
    """Earlier answers as the history `Assistant.stream` takes: a user turn with the question,
    an assistant turn with the answer text and the articles it was answered from (its cited
    articles; for a refusal, the closest one it saw, so a follow-up still has a topic)."""
    out: list[dict[str, Any]] = []
    for a in answers:
        out.append({"role": "user", "content": a.question})
        out.append({"role": "assistant", "content": a.text, "refused": a.refused,
                    "article_ids": list(answered_from(a))})
    return out


def answered_from(answer: Answer) -> tuple[str, ...]:
    """The articles an answer was answered from: its cited ones, else the closest one it saw."""
    cited = tuple(dict.fromkeys(c.article_id for c in answer.citations))
    if cited:
        return cited
    seen = answer.related or answer.passages
    return (seen[0].article_id,) if seen else ()


def resolve(question: str, history: Sequence[Any] | None, lang: Lang | None = None) -> FollowUp:
    """The question as it should be asked after `history` (see the module docstring)."""
    previous: FollowUp | None = None
    for turn in _turns(history):
        follow = _resolve_one(turn.question, previous)
        if follow.own and previous is not None and _elsewhere(turn.articles, previous.articles):
            follow = FollowUp(turn.question)  # answered from other articles: a new topic
        previous = replace(follow, articles=turn.articles)
    if previous is None:
        return FollowUp(question)
    return _resolve_one(question, previous, lang)


def _resolve_one(question: str, previous: FollowUp | None, lang: Lang | None = None) -> FollowUp:
    if previous is None:
        return FollowUp(question)
    switched = rewrite_by_rule(question, [{"role": "user", "content": previous.question}])
    if switched != question:
        return FollowUp(switched, (), SWITCH)
    if not is_elliptical(question, lang):
        return FollowUp(question)
    subject = previous.carried()
    rest = SUBJECT_PRONOUN.sub("", LEAD.sub("", question)).strip()
    own = () if _anchored(question) else _words(question, lang)
    asked = f"{subject}，{rest}" if subject else rest  # 最新的文章在講什麼？ leaves no words
    return FollowUp(asked, previous.articles, ELLIPTICAL, subject, own)


def absent_words(words: Sequence[str], bodies: Sequence[str]) -> tuple[str, ...]:
    """The (folded) words none of `bodies` holds: an unanchored follow-up's own words missing
    from the articles it would be restricted to."""
    folded = [fold(b) for b in bodies]
    return tuple(w for w in words if not any(w in b for b in folded))


def switched_topic(missing: Sequence[str], articles: Sequence[str],
                   found: Sequence[Passage]) -> bool:
    """True when a follow-up is a new topic: the best passage `found` for the question asked as
    it is comes from outside `articles` (the previous answer's) and holds a word of `missing`
    (`absent_words`). Any passage of another article instead of the best one also moved
    拜訪了哪些科技公司？ (公司: the US-trip article says 企業) off its article."""
    if not missing or not found or found[0].article_id in articles:
        return False
    text = fold(found[0].text)
    return any(w in text for w in missing)


def _elsewhere(articles: Sequence[str], previous: Sequence[str]) -> bool:
    return bool(articles) and bool(previous) and set(articles).isdisjoint(previous)


def _anchored(question: str) -> bool:
    """A pronoun or a leading 那/還有/and ties the question to the previous turn."""
    return ANAPHORA.search(question) is not None or LEAD.match(question) is not None


def _words(question: str, lang: Lang | None) -> tuple[str, ...]:
    from rag.answerers.question import analyse

    return analyse(question, lang or detect_language(question)).words


def is_elliptical(question: str, lang: Lang | None = None) -> bool:
    """True when the question leans on the previous turn for its subject: it opens with a word
    that stands for it (他們, 那次; in English such a word anywhere: its, there, one), or it
    names nothing of its own."""
    from rag.answerers.question import analyse

    if ANAPHORA.search(question):
        return True
    if _names_a_new_subject(question):
        return False
    return not analyse(question, lang or detect_language(question)).names


def _names_a_new_subject(question: str) -> bool:
    """那 + a noun is "as for X" (那思科是跟誰會談？ asks about 思科), 那 + a verb is "so, then"
    (那花了多少錢？ asks about the previous topic). On the tuning dialogues the noun case
    carried a topic that misled the answerer (d015.2)."""
    import jieba.posseg

    m = re.match(r"^\s*(?:那麼|那么|至於|至于|那)\s*(\S.*)", question)
    if m is None:
        return False
    first = next(iter(jieba.posseg.cut(m.group(1))), None)
    return first is not None and (first.flag.startswith("n") or first.flag == "eng")


def topic(question: str) -> str:
    """A question's topic words: the question without its question words, end punctuation and a
    copula left at the end (歐盟IURC代表團哪天到高雄？ -> 歐盟IURC代表團到高雄)."""
    text = _ASK_SPAN.sub(" ", question)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])", "", text)
    text = _COPULA_END.sub("", _TRAILING.sub("", text).strip())
    return text.strip() or _TRAILING.sub("", question).strip()


def _turns(history: Sequence[Any] | None) -> list[_Turn]:
    """(question, the articles its answer came from) for each user turn, in order."""
    out: list[_Turn] = []
    for role, text, articles in _messages(history):
        if role == "user" and text.strip() and kind_of(text) is None:  # 你好 has no topic
            # 有關於NVIDIA的新聞嗎？ and 總結一下燈塔計畫 are about NVIDIA and 燈塔計畫
            asked = text.strip()
            if asks_latest(asked):
                asked = ""  # its topic is the article it was answered from, not its words
            out.append(_Turn(searched_topic(asked) or summary_topic(asked) or asked, ()))
        elif role == "assistant" and out and not out[-1].articles:
            out[-1] = _Turn(out[-1].question, articles)
    return out


def _messages(history: Sequence[Any] | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """(role, text, cited articles) per message: dicts (with optional `article_ids`), Answers
    (a user and an assistant message), or the (user, assistant) pairs rag/rewrite.py reads."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for item in history or []:
        if isinstance(item, Answer):
            out += [("user", item.question, ()), ("assistant", item.text, answered_from(item))]
        elif isinstance(item, dict):
            ids = tuple(str(i) for i in item.get("article_ids") or ())
            out.append((str(item.get("role", "user")), message_text(item.get("content")), ids))
        else:
            out += [(role, text, ()) for role, text in turns([item])]
    return out
