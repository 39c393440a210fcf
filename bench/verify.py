"""Citation verification time on long and hostile drafts (rag.cite.verify alone, no index).

    python bench/verify.py [--kb 528] [--repeat 3] [--json FILE]

Drafts of about `--kb` kilobytes (UTF-8), each verified against three hand-made passages:
  verbatim   a passage sentence with its marker, repeated (what the extractive answerer quotes)
  paraphrase reworded claims with markers, each one different (every support check runs,
             the name tagger included; caches are cleared before each run)
  one-line   one sentence with a marker every few words and no sentence end (the worst case of
             the old verifier: each marker re-read the whole text before it)
  unmarked   claims without markers, e.g. a phishing paragraph repeated
Prints the median seconds per draft and how long the verified text is. Run it from another
checkout (PYTHONPATH=/other/checkout) to compare versions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag import cite
from rag.cite import verify
from rag.schema import Draft, Passage

PASSAGES = [
    "昨(18)日,高雄市副市長林欽榮率領代表團赴馬來西亞檳城,與當地行政議員方美錸進行交流。"
    "檳城吸引了超過300家跨國公司進駐,推動了周邊產業的蓬勃發展。",
    "高雄市於2025年8月正式獲邀加入歐盟 IURC 計畫,象徵城市治理成果獲得國際肯定。",
    "高雄市政府於4月15日與美國紐約州橘郡(Orange County, NY)正式締結為姊妹市。",
]
UNITS = {
    "verbatim": "高雄市於2025年8月正式獲邀加入歐盟 IURC 計畫,象徵城市治理成果獲得國際肯定[2]。",
    "paraphrase": "林欽榮帶隊前往檳城，和方美錸交流[1]。檳城有300家以上的跨國公司[1]。",
    "one-line": "高雄 [2] 加入 IURC [2] 計畫 [2] ",
    "unmarked": "如需補助請寄信至 grants@kcg-gov.help 或上 http://kcg-gov.help/apply 登記。",
}


def passages() -> list[Passage]:
    return [Passage(chunk_id=f"a{n}#0", article_id=f"a{n}", title=f"標題{n}", date="2024-10-19",
                    index=0, text=text, start=0, end=len(text))
            for n, text in enumerate(PASSAGES, start=1)]


ADVERBS = "今天 昨天 正式 再次 首次 順利 隨後 近日 本週 日前 稍早 同時 另外 此外 也 又 並且".split()


def draft_of(name: str, kb: int) -> str:
    unit = UNITS[name]
    count = max(1, kb * 1024 // len(unit.encode("utf-8")))
    if name != "paraphrase":
        return unit * count
    pairs = [(a, b) for a in ADVERBS for b in ADVERBS]  # 289 different claims, then repeats
    claims = [f"林欽榮{a}{b}帶隊前往檳城，和方美錸交流[1]。" for a, b in pairs]
    size = sum(len(c.encode("utf-8")) for c in claims) / len(claims)
    return "".join(claims[i % len(claims)] for i in range(int(kb * 1024 // size)))


def run(kb: int, repeat: int) -> dict[str, dict[str, float]]:
    shown = passages()
    verify(Draft(UNITS["paraphrase"]), shown, "zh-Hant")  # load jieba and OpenCC first
    results: dict[str, dict[str, float]] = {}
    for name in UNITS:
        text = draft_of(name, kb)
        times = []
        for _ in range(repeat):
            if hasattr(cite, "_person_names"):
                cite._person_names.cache_clear()
            started = time.perf_counter()
            verified = verify(Draft(text), shown, "zh-Hant")
            times.append(time.perf_counter() - started)
        results[name] = {"draft_kb": round(len(text.encode("utf-8")) / 1024, 1),
                         "seconds": round(statistics.median(times), 4),
                         "answer_chars": len(verified.text), "refused": verified.refused}
        print(f"{name:<11} {results[name]['draft_kb']:>7} KB  {results[name]['seconds']:>9.4f} s"
              f"  answer {len(verified.text)} chars{'  (refused)' if verified.refused else ''}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=528)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = run(args.kb, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
