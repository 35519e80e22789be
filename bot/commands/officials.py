"""``bosai officials add|revoke|list`` and ``bosai db upgrade``."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    officials = subparsers.add_parser("officials", help="manage officials and their API tokens")
    sub = officials.add_subparsers(dest="officials_command", metavar="ACTION")
    officials.set_defaults(func=lambda args: _help(officials))

    add = sub.add_parser("add", help="add an official and print a new API token (shown once)")
    add.add_argument("name", help="official's name (unique)")
    add.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    add.set_defaults(func=cmd_add)

    revoke = sub.add_parser("revoke", help="revoke an official's token")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_revoke)

    lst = sub.add_parser("list", help="list officials (never shows tokens)")
    lst.set_defaults(func=cmd_list)

    db = subparsers.add_parser("db", help="report database")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db.set_defaults(func=lambda args: _help(db))
    up = db_sub.add_parser("upgrade", help="apply the database migrations (idempotent)")
    up.set_defaults(func=cmd_db_upgrade)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _store():
    from bot.store import get_store

    store = get_store()
    store.upgrade()
    return store


def cmd_add(args: argparse.Namespace) -> int:
    from bot.store import InvalidInput

    try:
        official, token = _store().add_official(args.name, args.role)
    except InvalidInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Added {official.name} ({official.role}). API token (shown only once, keep it safe):")
    print(token)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    if _store().revoke_official(args.name):
        print(f"Revoked the token of {args.name}.")
        return 0
    print(f"error: no active official named {args.name!r}", file=sys.stderr)
    return 1


def cmd_list(args: argparse.Namespace) -> int:
    rows = _store().list_officials()
    if not rows:
        print("No officials yet. Add one with: bosai officials add NAME --role admin")
        return 0
    for o in rows:
        state = f"revoked {o.revoked_at:%Y-%m-%d %H:%M}" if o.revoked_at else "active"
        print(f"{o.name}\t{o.role}\t{state}\tcreated {o.created_at:%Y-%m-%d %H:%M} UTC")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import get_store
    from bot.store.migrate import current

    store = get_store()
    store.upgrade()
    print(
        f"Database {store.engine.url.render_as_string(hide_password=True)} "
        f"is at revision {current(store.engine)}."
    )
    return 0
