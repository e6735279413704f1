"""Every message fits Discord's limits (ui/limits.py): per part and 6,000 in all."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ui import limits
from ui.limits import EmbedText, fit_embeds, shorten

text = st.text(alphabet=st.sampled_from("ab \n<@1>*"), max_size=5000)
embed = st.builds(
    EmbedText,
    title=st.one_of(st.none(), text),
    description=st.one_of(st.none(), text),
    fields=st.lists(st.tuples(text, text), max_size=30).map(tuple),
    footer=st.one_of(st.none(), text),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(embed, min_size=1, max_size=12))
def test_any_embeds_fit_every_limit(embeds: list[EmbedText]):
    fitted = fit_embeds(embeds)
    assert len(fitted) <= limits.EMBEDS
    assert sum(e.size for e in fitted) <= limits.EMBED_TOTAL
    for e in fitted:
        assert len(e.title or "") <= limits.TITLE
        assert len(e.description or "") <= limits.DESCRIPTION
        assert len(e.footer or "") <= limits.FOOTER
        assert len(e.fields) <= limits.FIELDS
        for name, value in e.fields:
            assert 0 < len(name) <= limits.FIELD_NAME and 0 < len(value) <= limits.FIELD_VALUE


def test_short_parts_are_left_whole_and_lists_keep_their_newest_lines():
    status = "**Status:** open"
    reports = "\n".join(f"report {n} " + "x" * 200 for n in range(5))
    big = EmbedText(
        title="Case #1",
        description=status,
        fields=(("Latest reports", reports), ("Notes", "y" * 1024)),
        footer="Vigil case #1",
    )
    record = EmbedText(title="Full record", fields=(("All reports", "z\n" * 512),) * 3)
    fitted = fit_embeds([big, record])
    assert sum(e.size for e in fitted) <= 6000
    assert fitted[0].title == "Case #1" and fitted[0].description == status
    assert fitted[0].footer == "Vigil case #1"
    assert "report 4" in fitted[0].fields[0][1]  # the newest report survived


def test_shorten_keeps_whole_lines():
    lines = "\n".join(f"<@{n}> line" for n in range(100, 200))
    start, end = shorten(lines, 60), shorten(lines, 60, keep_end=True)
    assert len(start) <= 60 and start.endswith("…") and "<@100> line" in start
    assert len(end) <= 60 and end.startswith("…\n") and end.endswith("<@199> line")
    assert all(part.endswith(" line") for part in end.split("\n")[1:])
