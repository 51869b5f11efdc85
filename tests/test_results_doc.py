"""README's Performance section is benchmarks/RESULTS.md, word for word: the figures are written once."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _performance_section(readme: str) -> str:
    start = readme.index("\n## Performance\n") + 1
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def test_readme_performance_section_equals_benchmarks_results() -> None:
    section = _performance_section((ROOT / "README.md").read_text(encoding="utf-8"))
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    assert section.strip() == results.strip()
    assert "Benchmark" in section or "benchmark" in section  # the section was found, not an empty slice
