"""The learned answerer: a selector trained on a small sample ranks the answering sentence
first; the shipped models load and answer a corpus question, short answer first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rag.answerers import model as models
from rag.answerers.evidence import distinct_units, sentence_units
from rag.answerers.learned import LearnedAnswerer
from rag.answerers.reader import Reader, runner_up
from rag.answerers.similarity import SentenceVectors
from rag.assistant import Assistant
from rag.config import Settings
from rag.retrieve import Retriever
from rag.schema import Passage
from rag.text import Span
from train.build import Case
from train.data import Item
from train.learn import fit_selector, selector_probs
from train.samples import Sample, sample

# (question, answer, the passage: the answering sentence among sentences on the same topic)
SMALL = [
    ("新橋是哪一年完工的？", "1998年", "新橋橫跨河口。新橋於1998年完工通車。橋上設有自行車道。"),
    ("博物館的館長是誰？", "王大明",
     "博物館位於市中心。博物館館長王大明表示將延長開放時間。館內收藏古籍。"),
    ("湖泊的面積有多少平方公里？", "12平方公里",
     "湖泊是候鳥的棲地。湖泊面積約12平方公里。湖畔有步道。"),
    ("研討會在哪個城市舉行？", "台南", "研討會吸引百位學者。研討會在台南舉行。主辦單位提供午餐。"),
    ("鐵路全長多少公里？", "85公里", "鐵路連接兩座城市。鐵路全長85公里。沿線設有十個車站。"),
    ("樂團是哪一年成立的？", "2005年", "樂團以爵士樂聞名。樂團成立於2005年。團員來自各地。"),
    ("公司的創辦人是誰？", "李小華", "公司專注於晶片設計。公司由李小華創辦。總部設在新竹。"),
    ("學校有多少名學生？", "1200名", "學校重視體育。學校共有1200名學生。校園內有游泳池。"),
    ("展覽在哪一天開幕？", "5月3日", "展覽展出百件作品。展覽於5月3日開幕。門票免費。"),
    ("港口每年吞吐多少萬噸貨物？", "300萬噸",
     "港口位於海灣內。港口每年吞吐貨物300萬噸。港區正在擴建。"),
]


def _case(n: int, question: str, answer: str, text: str) -> Case:
    item = Item(qid=f"q{n}", question=question, pid=f"p{n}", article=f"a{n}", answers=(answer,),
                answer_start=text.index(answer), dataset="toy")
    p = Passage(chunk_id=f"p{n}#0", article_id=f"p{n}", title="", date="", index=0, text=text,
                start=0, end=len(text), score=1.0, scores={"dense": 0.8, "lexical": 3.0})
    return Case(kind="answerable", item=item, question=question, passages=(p,), split="train")


def _samples() -> list[Sample]:
    return [sample(_case(n, *row), SentenceVectors(None)) for n, row in enumerate(SMALL)]


def test_a_selector_trained_on_a_small_sample_ranks_the_answering_sentence_first() -> None:
    samples = _samples()
    model = fit_selector("logistic", samples[:7], seed=0)
    probs = selector_probs(model, samples[7:])
    for s, p in zip(samples[7:], probs, strict=True):
        assert s.labels[int(np.argmax(p))] == 1, s.case.question  # held out from training
        assert p[s.labels == 1].min() > p[s.labels == 0].max()


def test_the_shipped_models_load_and_carry_their_record() -> None:
    reader = Reader.shipped()
    assert reader.selector.features and 0.0 < reader.threshold < 1.0
    record = reader.judge.record
    assert record["seed"] and "test" in record["data"] and record["figures"]["test"]
    assert models.load("short").kind in ("logistic", "trees")


@pytest.fixture(scope="module")
def assistant(indexed: Settings, embedder: Any) -> Assistant:
    settings = indexed.with_(answerer="learned")
    return Assistant(settings, retriever=Retriever(settings, embedder=embedder))


def test_a_date_question_is_answered_with_its_date_first(assistant: Assistant) -> None:
    answer = assistant.ask("高雄何時加入IURC？")
    assert not answer.refused and answer.citations
    lead, _, rest = answer.text.partition("。")
    short, marker = lead.removesuffix("[1]"), lead[-3:]
    assert "2025" in short and len(short) <= 12 and marker == "[1]"  # the short answer, cited
    assert short in answer.citations[0].quote and "[1]" in rest  # then the quote


def test_the_threshold_override_makes_the_answerer_refuse(assistant: Assistant) -> None:
    passages = assistant.retriever.retrieve("高雄何時加入IURC？", k=5)
    strict = LearnedAnswerer(threshold=1.01)
    assert strict.draft("高雄何時加入IURC？", passages, "zh-Hant").refused
    assert not LearnedAnswerer().draft("高雄何時加入IURC？", passages, "zh-Hant").refused


def _chunk(text: str, start: int, n: int) -> Passage:
    return Passage(chunk_id=f"a#{n}", article_id="a", title="", date="", index=n, text=text,
                   start=start, end=start + len(text), score=1.0)


def test_a_sentence_two_overlapping_chunks_show_counts_once() -> None:
    body = "新橋橫跨河口。新橋於1998年完工通車。橋上設有自行車道。"
    first, second = body[:20], body[7:]  # the second chunk repeats the middle sentence
    passages = [_chunk(first, 0, 0), _chunk(second, 7, 1)]
    units = distinct_units(passages)
    texts = [span.text for _, span in units]
    assert texts.count("新橋於1998年完工通車。") == 1 and len(texts) == 3
    assert len(sentence_units(passages)) == 4  # what the rule answerer still sees


def test_the_runner_up_is_never_a_piece_of_the_best_sentence() -> None:
    """A chunk edge cuts a sentence the next chunk shows whole: the cut piece is the same
    article text, so it cannot be the best sentence's rival."""
    piece, other = "新橋於1998年完工通車。", "橋上設有自行車道。"
    whole_sentence = "市長陳大文表示，" + piece
    body = whole_sentence + other
    cut_at = body.index(piece)
    whole, cut = _chunk(body, 0, 0), _chunk(body[cut_at:], cut_at, 1)
    units = [(1, Span(whole_sentence, 0, len(whole_sentence))), (2, Span(piece, 0, len(piece))),
             (1, Span(other, len(whole_sentence), len(body)))]
    probs = np.array([0.9, 0.85, 0.2])
    assert runner_up(units, [whole, cut], probs, 0) == 2
