"""``python -m ntm_cli``: the same as the ``ntm-tuning`` command."""

from .main import main

main()
