"""A reproducible synthetic corpus of symptom records (NDJSON) for benchmarks and tests.

Records use the public input vocabulary (shared/clinical/vocabulary.md: 36 flag ids) with a
realistic sparsity: most bools false, about 10% of keys absent (unknown), a few explicit
nulls, and about 830 bytes per record. The same seed always gives the same bytes.

Records agree with the shipped rules' implied flags (a yes to `new_back_pain` is a yes to
`back_pain`): a record that contradicts one is a `bad-value` error, and real data holds few
of them. Without this, one record in six of the corpus was an error line, and a benchmark
of it measured the friendly error path, not the record path.

Usage: python benchmarks/corpus.py OUT.ndjson [--records N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path

# (id, probability of "true") for the bool flags of the vocabulary, in its order.
BOOLS: tuple[tuple[str, float], ...] = (
    ("cancer_history", 0.12),
    ("bone_metastases", 0.03),
    ("back_pain", 0.75),
    ("new_back_pain", 0.25),
    ("pain_thoracic", 0.08),
    ("pain_cervical", 0.10),
    ("pain_progressive", 0.12),
    ("pain_severe_unremitting", 0.05),
    ("pain_worse_straining", 0.10),
    ("spinal_tenderness", 0.08),
    ("night_pain", 0.12),
    ("pain_at_rest", 0.15),
    ("radicular_pain", 0.20),
    ("limb_weakness", 0.04),
    ("difficulty_walking", 0.05),
    ("sensory_change", 0.08),
    ("saddle_anaesthesia", 0.01),
    ("bladder_dysfunction", 0.03),
    ("bowel_dysfunction", 0.02),
    ("sexual_dysfunction", 0.02),
    ("bilateral_leg_symptoms", 0.04),
    ("unexplained_weight_loss", 0.03),
    ("fever", 0.04),
    ("iv_drug_use", 0.01),
    ("immunosuppressed", 0.04),
    ("recent_trauma", 0.08),
    ("osteoporosis", 0.06),
    ("long_term_steroids", 0.03),
    ("nausea", 0.06),
    ("vomiting", 0.03),
    ("constipation", 0.08),
    ("excessive_thirst", 0.03),
    ("drowsiness", 0.04),
    ("confusion", 0.02),
)
NUMERIC = ("age", "pain_duration_weeks")
VOCABULARY = ("age", *(b for b, _ in BOOLS), "pain_duration_weeks")
ABSENT = 0.10  # share of keys left out: unknown
NULL = 0.01  # share of keys given as null: also unknown


def _implied() -> dict[str, tuple[str, ...]]:
    """flag -> the flags a yes to it implies, in the shipped rules (transitively)."""
    from redflag.api import load_rules

    return dict(load_rules().compiled.implications.implied)


def records(n: int, seed: int = 20231018) -> Iterator[dict[str, object]]:
    """`n` records as dicts, in a fixed order for a given seed."""
    rng = random.Random(seed)
    implied = _implied()
    for i in range(n):
        rec: dict[str, object] = {"id": f"r{i:07d}"}
        for flag in VOCABULARY:
            roll = rng.random()
            if roll < ABSENT:
                continue
            if roll < ABSENT + NULL:
                rec[flag] = None
            elif flag == "age":
                rec[flag] = min(120, max(0, int(rng.gauss(52, 19))))
            elif flag == "pain_duration_weeks":
                weeks = rng.expovariate(1 / 6)
                rec[flag] = min(520.0, round(weeks, 1)) if rng.random() < 0.5 else int(weeks)
            else:
                rec[flag] = rng.random() < dict(BOOLS)[flag]
        for flag, targets in implied.items():
            if rec.get(flag) is True:
                for target in targets:
                    if rec.get(target) is False:
                        rec[target] = True
        yield rec


def write_corpus(path: Path, n: int, seed: int = 20231018) -> Path:
    """Write `n` records as NDJSON (readable `json.dumps` spacing, ~830 bytes each)."""
    with path.open("w", encoding="utf-8") as out:
        for rec in records(n, seed):
            out.write(json.dumps(rec) + "\n")
    return path


def main() -> None:
    """Command-line entry: write a corpus file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20231018)
    args = parser.parse_args()
    write_corpus(args.out, args.records, args.seed)


if __name__ == "__main__":
    main()
