"""Figures that cannot mislead: an all-NaN map says 'no data' instead of drawing an empty colour scale."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from secretlab.plots import draw_maze  # noqa: E402


def test_all_nan_values_say_no_data_and_draw_no_colour_scale():
    fig, ax = plt.subplots()
    im = draw_maze(ax, 4, values=np.full((4, 4), np.nan), colorbar_label="attention")
    assert im is None and len(fig.axes) == 1  # no image, no colour bar
    assert any(t.get_text() == "no data" for t in ax.texts)
    fig2, ax2 = plt.subplots()
    im2 = draw_maze(ax2, 4, values=np.eye(4), colorbar_label="attention")
    assert im2 is not None and len(fig2.axes) == 2 and not any(t.get_text() == "no data" for t in ax2.texts)
    plt.close("all")
