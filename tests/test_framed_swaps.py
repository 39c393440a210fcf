"""A sentence saying the question's words around another name is about someone else: a
question whose 巴赫 was swapped for the article's 韓德爾 must not be answered by the 巴赫
sentence (features.framed_swap, ExtractiveAnswerer.framed_swaps)."""

from __future__ import annotations

from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.features import Constraint, framed_swap
from rag.schema import Passage

LEIPZIG = "聖多馬教堂的樂長巴赫於1723年上任，直到1750年去世。他的作品以複音音樂聞名。"
LONDON = "同一時期，韓德爾在倫敦寫作歌劇，名氣更大。"


def passages() -> list[Passage]:
    return [Passage(chunk_id=f"a:{i}", article_id="a", title="萊比錫的音樂家", date="2025-01-01",
                    index=i, text=t, start=100 * i, end=100 * i + len(t), score=1.0 - i / 10)
            for i, t in enumerate((LEIPZIG, LONDON))]


class Unchecked(ExtractiveAnswerer):
    framed_swaps = False


def test_another_name_in_the_question_frame_is_a_swap() -> None:
    asked = "圣多马教堂的乐长韩德尔于哪一年上任?"
    name = [Constraint("name", "韩德尔")]
    sentence = "圣多马教堂的乐长巴赫于1723年上任,直到1750年去世。"
    assert framed_swap(name, asked, sentence, sentence)
    assert not framed_swap(name, asked, sentence, sentence + " 韩德尔也在场。")  # said next door
    # one side only counts with a whole name in the slot: a name opening a news question is
    # often said otherwise (林副市長 for 林欽榮), a swapped one is another name
    lin = [Constraint("name", "林钦荣")]
    invited = "林副市长诚挚邀请巴赫来访。"
    assert not framed_swap(lin, "林钦荣邀请谁来访?", invited, invited)
    home = "巴赫的故乡在爱森纳赫。"
    assert framed_swap(name, "韩德尔的故乡在哪里?", home, home)
    # a shown part of a name jieba glued a neighbour onto holds it
    assert not framed_swap([Constraint("name", "来高雄")], "同仁来高雄参加论坛",
                           "同仁于明年参加高雄的论坛", "同仁于明年参加高雄的论坛")


def test_the_swapped_question_is_refused_and_the_original_answered() -> None:
    swapped = "聖多馬教堂的樂長韓德爾於哪一年上任？"
    assert Unchecked().select(swapped, passages())  # before: quoted the 巴赫 sentence
    # the swapped sentence's neighbour, winning on its words, is not quoted in its place
    assert ExtractiveAnswerer().select(swapped, passages()) == []
    chosen = ExtractiveAnswerer().select("聖多馬教堂的樂長巴赫於哪一年上任？", passages())
    assert chosen and "1723年" in chosen[0].span.text
