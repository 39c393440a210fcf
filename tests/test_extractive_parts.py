"""Pure units of the extractive answerer: question analysis, evidence features, the
English -> Chinese lexicon and part-by-part answering (no model: similarities are zero)."""

from __future__ import annotations

import re

import pytest

from rag.answerers.evidence import (
    completion,
    coverage,
    gather,
    presence,
    resolve,
    sentence_units,
)
from rag.answerers.extractive import ExtractiveAnswerer
from rag.answerers.question import analyse, new_name, split_parts
from rag.lexicon import chinese_terms, read_english, senses
from rag.schema import Passage
from rag.text import both_scripts


def passage(text: str, n: int = 0, article: str = "a1", title: str = "標題") -> Passage:
    return Passage(chunk_id=f"{article}:{n}", article_id=article, title=title,
                   date="2025-04-16", index=n, text=text, start=n * 1000,
                   end=n * 1000 + len(text), score=1.0)


def test_question_words_drop_question_words_and_mark_the_asked_category() -> None:
    q = analyse("林欽榮副市長率團前往哪個國家交流？")
    assert "国家" in q.words and "国家" in q.categories  # named kind of the answer
    assert "林钦荣" in q.words and not {"哪个", "的", "是"} & set(q.words)
    assert q.kinds == ("place",)


@pytest.mark.parametrize(("traditional", "simplified", "kind"), [
    ("誰率領代表團？", "谁率领代表团？", "person"), ("他們去了幾天？", "他们去了几天？", "number"),
    ("什麼時候簽署的？", "什么时候签署的？", "date"), ("他是哪國人？", "他是哪国人？", "place"),
    ("檳城在哪裡？", "槟城在哪里？", "place")])
def test_a_question_names_the_same_kind_in_either_script(traditional: str, simplified: str,
                                                         kind: str) -> None:
    assert kind in analyse(traditional).kinds
    assert analyse(simplified).kinds == analyse(traditional).kinds


def test_answer_cues_match_simplified_sentences() -> None:
    q = analyse("谁率领代表团？")
    assert q.cue("此次访团由欧盟第一参事亲自率领。") and q.cue("此次訪團由歐盟第一參事親自率領。")
    assert not q.cue("访团于6日莅临高雄。")


def test_both_scripts_widens_characters_and_classes_and_keeps_escapes() -> None:
    assert both_scripts("幾天") == "[幾几]天"
    assert both_scripts("[一兩]+") == "[一兩两]+"
    assert both_scripts(r"\d年|\[幾\]") == r"\d年|\[[幾几]\]"
    assert re.fullmatch(both_scripts("什麼時候"), "什么时候")


@pytest.mark.parametrize(("question", "units"), [
    ("陳其邁這次赴美參訪行程為期幾天？", ("天",)), ("陳市長今年幾歲？", ("岁",)),
    ("輕軌全線總長度是多少公里？", ("公里",)), ("這是第幾次造訪？", ("次",)),
    ("誰率領代表團？", ())])
def test_units_asked_for(question: str, units: tuple[str, ...]) -> None:
    assert analyse(question).units == units


def test_unit_check_accepts_numbers_chinese_numerals_and_firsts() -> None:
    assert analyse("為期幾天？").unit_ok("成功完成为期五天的参访")
    assert analyse("第幾次造訪？").unit_ok("首次造访高雄")
    assert not analyse("今年幾歲？").unit_ok("2025年8月正式加入")


def test_date_question_with_zai_na_is_not_a_place_question() -> None:
    assert analyse("是在哪一天簽署的？").kinds == ("date",)


@pytest.mark.parametrize("question", ["巴赫精通哪幾種語言？", "巴赫精通哪几种语言？"])
def test_na_ji_asks_which_ones_not_how_many(question: str) -> None:
    """哪幾 is a list: read as 幾 it asked for a number (哪幾家: a number of 家), and a
    sentence listing the languages was refused for lacking one."""
    q = analyse(question)
    assert q.kinds == ("list",) and q.units == ()
    text = "巴赫精通德語、法語和拉丁語。他曾在萊比錫任教。"
    chosen = ExtractiveAnswerer().select(question, [passage(text)])
    assert chosen and "拉丁語" in chosen[0].span.text
    assert analyse("巴赫有幾位老師？").units == ("位",)  # 幾 alone still asks a count
    assert analyse("巴赫去過哪幾家教堂？").units == ()


def test_new_name_finds_a_person_the_question_does_not_name() -> None:
    q = analyse("歐盟IURC代表團是由誰親自率領？")
    assert new_name("此次訪團由主管 Andreas Röttger 親自率領。", q)
    assert not new_name("國內團隊Linker Vision共同投入研發", analyse("Linker Vision的執行長是誰？"))
    # five capitalised words are a title, not a person (a 誰 question was answered by it)
    q = analyse("那次是誰帶隊？")
    assert not new_name("參與 Smart City Expo World Congress 與 IURC 首屆全球主題交流活動。", q)
    assert new_name("與市長Matt Mahan和國際事務主任Joseph Hedge交流。", q)


def test_split_parts_keeps_a_part_without_content_with_the_one_before() -> None:
    assert split_parts("燈塔計畫何時啟動？這項計畫後來榮獲什麼獎項？") == [
        "燈塔計畫何時啟動", "這項計畫後來榮獲什麼獎項"]
    assert split_parts("發言的官員是誰？職稱為何？") == ["發言的官員是誰，職稱為何"]
    assert split_parts("高雄何時加入IURC？") == ["高雄何時加入IURC"]


def test_resolve_and_presence_give_partial_credit_for_split_words() -> None:
    assert resolve("长纽", "郡长 纽豪斯来访") == "长纽"  # nothing shorter than 2 characters
    assert resolve("访团来", "iurc访团于6日") == "访团"
    assert presence("率团", "率领市府团队") == 0.5
    assert presence("题目", "主题演讲的项目") == 0.0  # too far apart to be one word
    assert coverage([("高雄",), ("预算",)], "高雄市", {("高雄",): 1.0, ("预算",): 3.0}) == 0.25


def test_lexicon_maps_english_words_and_phrases_to_chinese() -> None:
    assert "高雄" in senses("Kaohsiung") and "槟城" in senses("Penang")
    assert "投资" in senses("invest") and "代表团" in senses("delegations")
    assert "副市长" in senses("deputy mayor")
    assert senses("zzzqx") == ()


def test_read_english_keeps_content_words_phrases_and_names() -> None:
    text = "Did the deputy mayor invest in Penang's Supermicro?"
    glosses = {g.word: g for g in read_english(text)}
    assert set(glosses) == {"deputy mayor", "invest", "penang", "supermicro"}
    assert glosses["penang"].name and not glosses["deputy mayor"].name
    assert glosses["supermicro"].senses == ()  # unknown, kept: it is capitalised
    assert "投资" in glosses["invest"].senses
    assert chinese_terms("the of and") == "" and read_english("") == []


def test_whose_asks_for_someone_and_names_nothing() -> None:
    # "Whose" heads the question capitalised: it was kept as an unknown name to find, so it
    # counted as a word missing from every article.
    assert "whose" not in {g.word for g in read_english("Whose keynote did the mayor hear?")}
    assert "person" in analyse("Whose keynote did the mayor hear?").kinds
    assert "person" in analyse("To whom did the county give the award?").kinds


def test_english_query_keeps_names_and_their_senses() -> None:
    q = analyse("How much did Supermicro pledge to invest in Kaohsiung?")
    assert q.english and q.names == ("kaohsiung",)  # CC-CEDICT knows Kaohsiung as a name
    assert "supermicro" in q.words  # unknown to the dictionary: a word that must be found
    assert "高雄" in q.alternatives()["kaohsiung"] and "投资" in q.alternatives()["invest"]
    assert analyse("Which NVIDIA conference did Mayor Chen attend?").names == ("nvidia",)


def test_missing_words_and_missing_units_are_measured() -> None:
    ps = [passage("陳其邁率團前往矽谷，成功完成為期五天的參訪行程。")]
    units = sentence_units(ps)
    ev = gather(analyse("陳其邁今年幾歲？"), ps, units, [0.0] * len(units))
    assert not ev.unit_found
    ev = gather(analyse("燈塔計畫的總預算是多少？"), ps, units, [0.0] * len(units))
    assert ev.missing == 1.0
    ev = gather(analyse("陳其邁參訪為期幾天？"), ps, units, [0.0] * len(units))
    assert ev.unit_found and ev.missing == 0.0 and ev.candidates[0].unit == 1.0


def test_two_part_question_is_answered_from_two_articles() -> None:
    ps = [passage("智慧高雄燈塔計劃於去年底啟動，市府率先發展主權AI。", 0, "a1"),
          passage("燈塔計畫榮獲2026智慧城市創新應用獎，獲得肯定。", 0, "a2")]
    answerer = ExtractiveAnswerer(threshold=0.35)
    draft = answerer.draft("燈塔計劃是何時啟動的？燈塔計畫榮獲什麼獎項？", ps, "zh-Hant")
    text = draft.text
    assert not draft.refused and "去年底" in text and "2026智慧城市創新應用獎" in text
    assert "[1]" in text and "[2]" in text


def test_question_about_a_name_absent_from_the_article_is_refused() -> None:
    ps = [passage("高雄市與橘郡於4月15日正式簽署姊妹市協議。", 0, "a1", "高雄與橘郡締結姊妹市")]
    answerer = ExtractiveAnswerer(threshold=0.35)
    assert answerer.select("高雄市與檳城是在哪一天正式簽署姊妹市協定的？", ps) == []
    assert answerer.select("高雄市與橘郡是在哪一天正式簽署姊妹市協議的？", ps)


def test_a_sure_short_answer_leads_the_quote_and_is_cited() -> None:
    text = "鐵路連接兩座城市。鐵路全長85公里，沿線設有十個車站。"
    draft = ExtractiveAnswerer().draft("鐵路全長多少公里？", [passage(text)], "zh-Hant")
    assert not draft.refused
    assert draft.text.startswith("85公里[1]。鐵路全長85公里")


def test_an_unsure_short_answer_is_left_out() -> None:
    """The span model scores 5月3日 below LEAD_MIN here: the quote alone answers."""
    text = "展覽展出百件作品。展覽於5月3日開幕，門票免費。"
    draft = ExtractiveAnswerer().draft("展覽在哪一天開幕？", [passage(text)], "zh-Hant")
    assert not draft.refused and draft.text.startswith("展覽於5月3日開幕")


def test_the_short_answer_is_simplified_for_a_simplified_question() -> None:
    text = "鐵路連接兩座城市。鐵路全長85公里，沿線設有十個車站。"
    draft = ExtractiveAnswerer().draft("铁路全长多少公里？", [passage(text)], "zh-Hans")
    assert draft.text == "85公里[1]。铁路全长85公里，沿线设有十个车站。[1]"


def test_an_english_answer_opens_with_its_lead_in_then_the_short_answer() -> None:
    class Sure(ExtractiveAnswerer):  # the formatting alone: chosen and led as in Chinese
        def select(self, question, passages, lang=None):  # type: ignore[no-untyped-def]
            return super().select(question, passages, "zh-Hant")

        def lead(self, query, chosen):  # type: ignore[no-untyped-def]
            return "85公里", chosen[0].n

    text = "鐵路連接兩座城市。鐵路全長85公里，沿線設有十個車站。"
    ok = Sure().draft("鐵路全長多少公里？", [passage(text)], "en")
    assert ok.text.startswith("According to the articles (quoted in Chinese): 85公里[1]. 鐵路全長")


def test_an_asked_country_is_held_by_a_sentence_naming_one() -> None:
    # 哪個國家's 國家 is answered by a country's name, which no sentence calls 國家: counted as
    # a word every sentence lacks, it left the answering sentence a quarter of the question.
    passages = [passage("萊比錫作為德國的重要城市，工業發達。萊比錫舉辦了夏季音樂節。")]
    question = "萊比錫位在哪個國家？"
    query = ExtractiveAnswerer.query(question)
    assert query.country_instances
    units = sentence_units(passages)
    own = [c.own for c in gather(query, passages, units, [0.0] * len(units)).candidates]
    assert own[0] == 1.0 and own[1] < 0.5
    plain = [c.own for c in gather(analyse(question), passages, units, [0.0] * len(units))
             .candidates]
    assert plain[0] < 0.5  # without the flag (the learned models' features): as before
    chosen = ExtractiveAnswerer().select(question, passages)
    assert chosen and "德國" in chosen[0].span.text
    # a text that says 國家 keeps the word's ordinary meaning
    said = [passage("萊比錫是國家級城市。萊比錫作為德國的重要城市，工業發達。")]
    units = sentence_units(said)
    own = [c.own for c in gather(query, said, units, [0.0] * len(units)).candidates]
    assert own[0] == 1.0 and own[1] < 1.0
    # a question that asks only "which country" is about nothing: any country would answer it
    for bare in ("哪個國家？", "國家"):
        assert not ExtractiveAnswerer().select(bare, passages)


def test_the_neighbour_holding_the_question_s_verb_completes_the_answer() -> None:
    # A news page cuts the sentence: where the band went is in one, what it joined in the next.
    passages = [passage("早在去年五月，巴赫樂團全體團員便搭機前往維也納。"
                        "參與國際音樂節的開幕演出，獲得好評。樂團成員共有四十人。")]
    question = "巴赫樂團去年五月去維也納參與了什麼？"
    query = ExtractiveAnswerer.query(question)
    candidates = gather(query, passages, sentence_units(passages), [0.0] * 3).candidates
    assert candidates[0].near - candidates[0].own >= 0.1
    assert completion(candidates, 0, query) is None  # the older rules see nothing missing
    assert completion(candidates, 0, query, lacking=0.1) is candidates[1]
    assert completion(candidates, 0, query, lacking=0.9) is None
    quoted = [c.span.text for c in ExtractiveAnswerer().select(question, passages)]
    assert any("國際音樂節" in q for q in quoted) and any("維也納" in q for q in quoted)


def test_the_validation_variants_turn_off_only_their_own_rule() -> None:
    from train.validate import NoCountryInstances, NoLacking

    question = "萊比錫位在哪個國家？"
    assert not NoCountryInstances.query(question).country_instances
    assert NoCountryInstances.query(question).words == ExtractiveAnswerer.query(question).words
    assert NoLacking.lacking is None and ExtractiveAnswerer.lacking is not None
