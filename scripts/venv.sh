# Shared by ./run-app and ./run-tests: make .venv and install pushdesk into it,
# again only when pyproject.toml changed since the last install. Runs in the
# repository's top folder.
ensure_venv() {
    local extra=$1
    local python=${PYTHON:-python3}
    local stamp=".venv/.installed-$extra"

    # The test install is a superset of the app's.
    if [ "$extra" = app ] && [ -f .venv/.installed-test ] \
        && [ ! pyproject.toml -nt .venv/.installed-test ]; then
        return
    fi

    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "pushdesk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv …" >&2
        "$python" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "Installing pushdesk and its dependencies into .venv …" >&2
        .venv/bin/python -m pip install --quiet --upgrade pip
        if [ "$extra" = test ]; then
            .venv/bin/python -m pip install --quiet -e '.[test]'
        else
            .venv/bin/python -m pip install --quiet -e .
        fi
        touch "$stamp"
    fi
}
