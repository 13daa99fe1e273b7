.PHONY: setup run test test-sqlite test-postgres bench lint format messages

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run.sh

test: setup
	@bash scripts/test.sh

bench: setup
	@bash scripts/bench.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

messages: setup
	.venv/bin/python manage.py makemessages -l km --add-location=file --no-obsolete --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore="*/tests/*"
