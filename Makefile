# Two commands: `make reproduce` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PROFILE ?= default
OUT    ?=
STAMP  := $(VENV)/.installed

.PHONY: reproduce test setup lab inspector bench reference-figures clean-cache clean

setup: $(STAMP)

# The stamp depends on the pins, so editing requirements.txt reinstalls.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name secretlab --display-name "Python (secretlab)" >/dev/null
	touch $(STAMP)

reproduce: $(STAMP)
	$(PY) -m secretlab reproduce --profile $(PROFILE) $(if $(OUT),--out $(OUT),)

test: $(STAMP)
	$(PY) -m pytest -q

# JupyterLab on the notebooks, with the "secretlab" kernel the setup registered (LAB_ARGS: e.g. --no-browser).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

# The credit inspector in Voila on notebook 00's small model: trained once (about half a minute), then cached.
inspector: $(STAMP)
	$(PY) -c "from secretlab.widgets import quickstart_scenario; quickstart_scenario(progress=True).get_model()"
	cd notebooks/extras && ../../$(VENV)/bin/voila inspector_app.ipynb $(VOILA_ARGS)

bench: $(STAMP)
	$(PY) -m secretlab bench

# Refresh the committed reference set in figures/ from a default-profile run.
reference-figures: $(STAMP)
	rm -rf runs/reference
	$(PY) -m secretlab reproduce --profile default --out runs/reference
	rm -f figures/*.png
	cp runs/reference/figures/*.png runs/reference/summary.json figures/
	sed 's#](figures/#](#g' runs/reference/REPORT.md > figures/REPORT.md

clean-cache:
	rm -rf .cache

clean:
	rm -rf $(VENV) .cache runs
