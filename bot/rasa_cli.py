"""``python -m bot.rasa_cli <rasa arguments>``: Rasa's own command line with the measured
replacements of :mod:`bot.rasa_speedups` installed first.

``bosai run`` gets them in the Rasa server's process through our tracker store; a Rasa command
that loads the model without it (``rasa test core`` in ``make stories``) gets them here, so it
loads the model as the server does (about 20 s less CPU per load, docs/performance.md).
"""

from __future__ import annotations


def main() -> None:
    from bot import rasa_speedups

    rasa_speedups.apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
