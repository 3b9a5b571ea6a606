# tongban: two commands for a fresh machine. See README.md.
.PHONY: run test lint format lock clean

run:
	@scripts/run.sh

test:
	@scripts/test.sh

lint:
	@scripts/bootstrap.sh dev && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy tongban

format:
	@scripts/bootstrap.sh dev && .venv/bin/ruff format . && .venv/bin/ruff check --fix .

lock:
	uv pip compile -q pyproject.toml -o requirements/base.txt --python-version 3.11
	uv pip compile -q pyproject.toml --extra dev -o requirements/dev.txt --python-version 3.11

clean:
	rm -rf .venv var
