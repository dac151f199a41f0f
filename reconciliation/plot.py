"""The month's variance and exception counts as a PNG, drawn on the server so it works offline."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt


def month_plot_png(series: dict, *, title: str) -> bytes:
    dates = [d.day for d in series["dates"]]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, dpi=100)
    try:
        # float only for drawing: the figures themselves stay Decimal everywhere else.
        top.bar(dates, [float(v) for v in series["variance"]], color="#9db4d0", label="Variance (all)")
        top.bar(dates, [float(v) for v in series["unexplained"]], color="#c0392b", label="Unexplained")
        top.set_ylabel("Amount")
        top.legend(loc="upper right", fontsize=8)
        top.set_title(title)
        bottom.plot(
            dates, series["unexplained_items"], marker="o", color="#c0392b", label="Unexplained items"
        )
        bottom.plot(dates, series["blocked"], marker="s", color="#e67e22", label="Blocked transactions")
        bottom.set_ylabel("Count")
        bottom.set_xlabel("Day of month")
        bottom.legend(loc="upper right", fontsize=8)
        for axis in (top, bottom):
            axis.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
