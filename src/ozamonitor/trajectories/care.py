"""The care channel: one care state per child per period, beside the education channel.

States, highest precedence first (a day takes the highest state whose care covers it; a
period takes the state of most of its days, as the education channel does):

===============  =====================================================================
code             care spells (``care_spells``: law, kind)
===============  =====================================================================
``wlz``          any Wlz care
``residential``  Jeugdwet residential (24-hour) or foster care; Wfz (forensic) care
``day``          Jeugdwet day treatment
``zvw``          Zvw nursing or personal care
``ambulant``     Jeugdwet ambulant care; Wmo support (from 18)
``none``         no care
===============  =====================================================================

Days before birth, after death or after the extraction date are missing. The persons and
periods are those of :func:`ozamonitor.trajectories.build.build_trajectories` with the same
arguments (persons sorted by ``person_id``), so the two channels line up row by row for
:func:`ozamonitor.sequences.multichannel.seqdistmc`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from ozamonitor.files import atomic_write
from ozamonitor.register.store import Register
from ozamonitor.sequences.alphabet import Alphabet, State
from ozamonitor.sequences.plots import plot_distribution
from ozamonitor.sequences.seqdata import SequenceData
from ozamonitor.trajectories.build import (
    DEFAULT_END,
    DEFAULT_START,
    PeriodKind,
    parse_month,
    period_grid,
    states_from_spells,
)

__all__ = ["CARE_ALPHABET", "CARE_LAYERS", "build_care_channel", "care_layer_expr",
           "plot_channels"]

#: Layers of the care channel (bit position = index).
CARE_LAYERS: tuple[str, ...] = ("alive", "ambulant", "zvw", "day", "residential", "wlz")

#: The care states in display order (precedence is the reverse of this order, ``none`` last).
CARE_ALPHABET = Alphabet((
    State("none", "geen zorg", "no care", "#DDDDDD"),
    State("ambulant", "Jeugdwet ambulant / Wmo", "youth care ambulant / Wmo", "#88CCEE"),
    State("zvw", "Zvw verpleging/verzorging", "Zvw nursing/personal care", "#44AA99"),
    State("day", "Jeugdwet dagbehandeling", "youth care day treatment", "#DDCC77"),
    State("residential", "Jeugdwet verblijf / pleegzorg / Wfz",
          "youth care residential / foster / forensic", "#CC6677"),
    State("wlz", "Wlz", "Wlz (long-term care)", "#882255"),
))
_ID = {name: i for i, name in enumerate(CARE_LAYERS)}


def care_layer_expr() -> pl.Expr:
    """The care layer id (or null) of a ``care_spells`` row."""
    law, kind = pl.col("law"), pl.col("kind")
    return (
        pl.when(law == "wlz").then(pl.lit(_ID["wlz"]))
        .when(law == "wfz").then(pl.lit(_ID["residential"]))
        .when((law == "jeugdwet") & kind.is_in(["residential_24h", "foster_care"]))
        .then(pl.lit(_ID["residential"]))
        .when((law == "jeugdwet") & (kind == "day_treatment")).then(pl.lit(_ID["day"]))
        .when(law == "zvw").then(pl.lit(_ID["zvw"]))
        .when(law.is_in(["jeugdwet", "wmo"])).then(pl.lit(_ID["ambulant"]))
        .otherwise(None).cast(pl.UInt8)
    )


def _lut_and_rank() -> tuple[np.ndarray, np.ndarray]:
    n = 1 << len(CARE_LAYERS)
    masks = np.arange(n)
    missing = CARE_ALPHABET.missing_code
    lut = np.full(n, missing, dtype=np.int16)
    alive = (masks & 1) > 0
    lut[alive] = CARE_ALPHABET.index("none")
    for name in CARE_LAYERS[1:]:  # ascending precedence: later layers overwrite
        on = alive & ((masks >> _ID[name]) & 1 > 0)
        lut[on] = CARE_ALPHABET.index(name)
    k = len(CARE_ALPHABET)
    rank = np.empty(k + 1, dtype=np.int16)
    for code in range(k):  # display order = ascending precedence
        rank[code] = k - 1 - code
    rank[missing] = k
    return lut, rank


def _days(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Date).cast(pl.Int64)


def build_care_channel(
    register: Register | str,
    *,
    period: PeriodKind = "month",
    start: str | dt.date = DEFAULT_START,
    end: str | dt.date = DEFAULT_END,
    person_ids: Sequence[str] | pl.Series | None = None,
    chunk_size: int = 100_000,
) -> SequenceData:
    """One care state per child per period (see the module docstring).

    Parameters
    ----------
    register : Register or str
        The register.
    period : {"month", "week", "quarter", "year"}, default "month"
    start, end : str or date
        The window, as :func:`~ozamonitor.trajectories.build.build_trajectories`.
    person_ids : sequence of str, optional
        Restrict to these persons.
    chunk_size : int, default 100000
        Persons per chunk.

    Returns
    -------
    SequenceData
        ``(persons, periods)`` codes over :data:`CARE_ALPHABET`, rows sorted by person id.
    """
    reg = Register.open(register)
    d0 = parse_month(start) if not isinstance(start, dt.date) else start
    d1 = parse_month(end, end=True) if not isinstance(end, dt.date) else end
    grid = period_grid(period, d0, d1)
    persons = reg.scan("persons").select("person_id", "birth_date")
    if person_ids is not None:
        wanted = pl.DataFrame({"person_id": pl.Series(list(person_ids), dtype=pl.String)})
        persons = persons.join(wanted.lazy(), on="person_id", how="semi")
    pdf = (persons.sort("person_id").collect().with_row_index("pidx")
           .with_columns(pl.col("pidx").cast(pl.Int64)))
    n = pdf.height
    far_end = int(grid.bounds[-1]) + 1
    extraction = int((reg.extraction_date - dt.date(1970, 1, 1)).days) + 1
    ids = pdf.lazy().select("person_id", "pidx")
    death = (reg.scan("enrolments").filter(pl.col("end_reason") == "deceased")
             .group_by("person_id").agg((_days("end").min() + 1).alias("death")))
    alive = (pdf.lazy().join(death, on="person_id", how="left").select(
        "pidx", pl.lit(_ID["alive"], pl.UInt8).alias("layer"), _days("birth_date").alias("s"),
        pl.min_horizontal(pl.col("death").fill_null(extraction), pl.lit(extraction))
        .alias("e")))
    care = (reg.scan("care_spells").join(ids, on="person_id", how="inner").select(
        "pidx", care_layer_expr().alias("layer"), _days("start").alias("s"),
        (_days("end") + 1).fill_null(far_end).alias("e")))
    sp = (pl.concat([q.select(pl.col("pidx").cast(pl.Int64), pl.col("layer").cast(pl.UInt8),
                               pl.col("s").cast(pl.Int64), pl.col("e").cast(pl.Int64))
                     for q in (alive, care)])
          .filter(pl.col("layer").is_not_null() & (pl.col("e") > pl.col("s")))
          .sort("pidx").collect())
    lut, rank = _lut_and_rank()
    codes = np.empty((n, len(grid)), dtype=np.int16)
    P, L = sp["pidx"].to_numpy(), sp["layer"].to_numpy()
    S, E = sp["s"].to_numpy(), sp["e"].to_numpy()
    cuts = np.searchsorted(P, np.arange(0, n + chunk_size, chunk_size))
    for k, lo in enumerate(range(0, max(n, 1), chunk_size)):
        hi = min(lo + chunk_size, n)
        if hi <= lo:
            break
        i0, i1 = cuts[k], cuts[k + 1]
        codes[lo:hi] = states_from_spells(P[i0:i1] - lo, L[i0:i1], S[i0:i1], E[i0:i1],
                                          hi - lo, grid.bounds, lut, rank)
    return SequenceData(
        codes, CARE_ALPHABET, ids=pdf["person_id"].to_numpy().astype(object),
        columns=grid.labels, period=period,
        birth_dates=pdf["birth_date"].to_numpy().astype("datetime64[D]"),
        period_starts=grid.starts,
        meta={"channel": "care", "start": d0.isoformat(), "end": d1.isoformat(),
              "extraction_date": reg.extraction_date.isoformat(), "register": str(reg.path)})


def plot_channels(channels: Sequence[SequenceData], names: Sequence[str], out: str | Path,
                  *, lang: str = "nl", with_missing: bool = False) -> Path:
    """Chronograms stacked per channel (one panel per channel, the same periods) as PNG.

    Parameters
    ----------
    channels : sequence of SequenceData
        The channels (same persons, same periods).
    names : sequence of str
        A title per channel.
    out : str or Path
        The PNG file (written atomically).
    lang : {"nl", "en"}, default "nl"
    with_missing : bool, default False
        Show the missing state.

    Returns
    -------
    Path
    """
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    images = []
    for seq, name in zip(channels, names, strict=True):
        fig = plot_distribution(seq, lang=lang, with_missing=with_missing,  # type: ignore[arg-type]
                                title=name)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        buf.seek(0)
        images.append(Image.open(buf).convert("RGB"))
    width = max(im.width for im in images)
    canvas = Image.new("RGB", (width, sum(im.height for im in images)), "white")
    y = 0
    for im in images:
        canvas.paste(im, (0, y))
        y += im.height
    out = Path(out)
    with atomic_write(out) as tmp:
        canvas.save(tmp, format="PNG")
    return out


def write_care_outputs(reg: Register, education: SequenceData, out: Path, *,
                       period: PeriodKind, start: str | dt.date, end: str | dt.date,
                       figure_formats: Sequence[str] = ("png",), lang: str = "nl"
                       ) -> list[str]:
    """The care channel of the persons of ``education`` (calendar time, same periods):
    ``microdata/care_sequences.parquet`` (owner-only) and the chronograms stacked per
    channel (``figures/chronogram_channels.png``, shares per period).

    Parameters
    ----------
    reg : Register
        The register.
    education : SequenceData
        The education channel in calendar time (rows sorted by person id).
    out : Path
        The output folder.
    period, start, end
        As the education channel was built.
    figure_formats : sequence of str, default ("png",)
        The chronogram is written when ``"png"`` is among them.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    list of str
        The files written (names relative to ``out``).
    """
    care = build_care_channel(reg, period=period, start=start, end=end,
                              person_ids=[str(x) for x in education.ids])
    micro = out / "microdata"  # person-level: owner-only folder, never published
    micro.mkdir(mode=0o700, exist_ok=True)
    care.write_parquet(micro / "care_sequences.parquet", private=True)
    files = ["microdata/care_sequences.parquet"]
    if "png" in figure_formats:  # shares per period, like the education chronogram
        names = ("onderwijs", "zorg") if lang == "nl" else ("education", "care")
        (out / "figures").mkdir(exist_ok=True)
        plot_channels([education, care], names, out / "figures" / "chronogram_channels.png",
                      lang=lang)
        files.append("figures/chronogram_channels.png")
    return files
