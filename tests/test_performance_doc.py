"""README's Performance section and benchmarks/RESULTS.md say the same: one text, two places."""

from __future__ import annotations

from pathlib import Path

TOP = Path(__file__).resolve().parents[1]


def performance_section(readme: str) -> str:
    """README's ``## Performance`` section, up to the next section of the same level."""
    start = readme.index("\n## Performance\n") + 1
    end = readme.find("\n## ", start)
    return readme[start:] if end == -1 else readme[start:end + 1]


def test_readme_performance_section_is_benchmarks_results() -> None:
    readme = (TOP / "README.md").read_text(encoding="utf-8")
    results = (TOP / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    assert performance_section(readme).strip() == results.strip()


def test_the_section_ends_at_the_next_one() -> None:
    text = "# t\n\n## Performance\n\nfigures\n\n## After\n\nmore\n"
    assert performance_section(text) == "## Performance\n\nfigures\n\n"
