"""The forecast as a chart a supervisor reads at a glance (matplotlib, headless).

One panel per open day: mean wait of answered calls by hour with its 95 % band,
the published band (SPEC §3) shaded behind it, abandonment on a second axis.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["plot_forecast"]


def plot_forecast(rows: list[dict], file: Path, title: str = "",
                  tz: str = "Europe/Moscow") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [d for d in dict.fromkeys(r["day"] for r in rows)]
    fig, axes = plt.subplots(1, len(days), figsize=(2.6 * len(days) + 1, 4.2), sharey=True,
                             squeeze=False)
    for ax, day in zip(axes[0], days, strict=True):
        rs = [r for r in rows if r["day"] == day and r["asa"] is not None]
        x = [r["hour"] + 0.5 for r in rs]
        y = [r["asa"] / 60 for r in rs]
        ci = [(r["asa_ci"] or 0) / 60 for r in rs]
        for r in rs:
            if r.get("band"):
                lo, hi = r["band"]
                ax.fill_between([r["hour"], r["hour"] + 1], lo / 60, hi / 60, color="#cfe8cf",
                                step="pre", linewidth=0)
        ax.fill_between(x, [a - b for a, b in zip(y, ci, strict=True)],
                        [a + b for a, b in zip(y, ci, strict=True)], color="#9ecae1", alpha=0.6)
        ax.plot(x, y, color="#08519c", marker="o", ms=3, label="mean wait (min)")
        ax2 = ax.twinx()
        ax2.bar(x, [100 * (r["abandon_rate"] or 0) for r in rs], width=0.6, color="#fdae6b",
                alpha=0.5, label="abandoned %")
        ax2.set_ylim(0, 100)
        if day != days[-1]:
            ax2.set_yticklabels([])
        else:
            ax2.set_ylabel("abandoned, %")
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_title(day.capitalize())
        ax.set_xlabel(f"hour ({tz})")  # the centre's local time
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean wait of answered calls, min")
    fig.suptitle(title + "  (green: published band)")
    fig.tight_layout()
    fig.savefig(file, dpi=110)
    plt.close(fig)
