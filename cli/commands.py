"""Operator commands, in ``server.py`` and the binary alike.

    create-user NAME [--admin] [--display-name TEXT]   a new account
    set-password NAME                                   a new password; ends the user's sessions
    migrate                                             apply pending migrations and exit
    backup --to FILE                                    SQLite: a consistent copy while the server runs

Each takes the server's settings (``--data-dir``, ``DATABASE_URL``...) to find
the database.  Passwords are read from a prompt (typed twice) or, when stdin is
not a terminal, from its first line; never from the command line, where every
user of the machine can read them.  Exit codes: 0 done, 1 refused (bad input,
unknown user), 2 not possible here (backup on PostgreSQL).
"""
import getpass
import sys

from handlers.bundle import program_name
from models import channels, migrations, users
from models.backup import BackupError, backup_sqlite, pg_dump_advice, sqlite_path
from models.db import DatabaseUnavailable, close_db, init_db, run_in_transaction
from models.errors import AppError

COMMANDS = {  # name: (its own arguments, what it does)
    "create-user": ("NAME [--admin] [--display-name TEXT]", "create an account (password from a prompt or stdin)"),
    "set-password": ("NAME", "set a new password (from a prompt or stdin) and end that user's sessions"),
    "migrate": ("", "apply pending database migrations and exit"),
    "backup": ("--to FILE", "copy the SQLite database while the server runs (PostgreSQL: prints the pg_dump command)"),
}


class CommandError(Exception):
    """The operator asked for something that cannot be done; the message says why."""


def read_password():
    """A new password: typed twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise CommandError("the two passwords differ")
        return users.validate_password(first)
    return users.validate_password(sys.stdin.readline().rstrip("\r\n"))


def create_user(config):
    users.validate_username(config["username"])  # before asking for a password
    password_hash = users.hash_password(read_password())
    user, _ = run_in_transaction(channels.create_account, config["username"], password_hash,
                                 config["display_name"], config["admin"])
    role = "administrator" if user["is_admin"] else "user"
    return f"Created {role} {user['username']} (id {user['id']})"


def set_password(config):
    candidate = run_in_transaction(users.find_login_candidate, config["username"])
    if candidate is None:
        raise CommandError(f"no user named {config['username']!r}")
    password_hash = users.hash_password(read_password())
    run_in_transaction(users.set_password, candidate["id"], password_hash)
    return (f"Password of {config['username']} changed; their sessions are ended "
            "(open WebSockets close at their next reconnect)")


def migrate(config):
    applied = migrations.migrate()
    latest = migrations.available()[-1]
    return f"Applied {', '.join(applied)}; schema at {latest}" if applied else f"Nothing to apply; schema at {latest}"


def backup(config):
    url, target = config["database_url"], config["to"]
    if not url.startswith("sqlite"):
        dump, restore = pg_dump_advice(url, target)
        print("The database is PostgreSQL: this command copies SQLite databases only. Run pg_dump "
              "(put the password in PGPASSWORD or ~/.pgpass):\n"
              f"    {dump}\nRestore, with the servers stopped:\n    {restore}", file=sys.stderr)
        raise SystemExit(2)
    summary = backup_sqlite(sqlite_path(url), target)
    return (f"Backup written to {target}: integrity ok, schema {summary['schema']}, {summary['users']} users, "
            f"{summary['chats']} chats, {summary['messages']} messages")


def _parser(name, settings_parser):
    """The command's own arguments and, listed in ``--help``, the two settings that say where the database is;
    every other server setting is taken too, unlisted."""
    arguments, purpose = COMMANDS[name]
    program = program_name()
    parser = settings_parser(listed=("data_dir", "database_url"), prog=f"{program} {name}",
                             description=purpose.capitalize() + ".",
                             usage=f"%(prog)s {arguments} [--data-dir DIR | --database-url URL] [server settings]",
                             epilog=f"Any other setting of the server is taken as well (see {program} --help).")
    if name in ("create-user", "set-password"):
        parser.add_argument("username", metavar="NAME", help="the account's username")
    if name == "create-user":
        parser.add_argument("--admin", action="store_true", help="make the account an administrator")
        parser.add_argument("--display-name", help="the name others see (default: the username)")
    if name == "backup":
        parser.add_argument("--to", required=True, metavar="FILE", help="where to write the copy (replaced)")
    return parser


def main(argv, settings_parser, parse_config):
    """Run ``argv[0]`` with the rest of ``argv``; returns the exit code."""
    name = argv[0]
    config = parse_config(argv[1:], parser=_parser(name, settings_parser))
    action = {"create-user": create_user, "set-password": set_password, "migrate": migrate, "backup": backup}[name]
    try:
        if name != "backup":
            init_db(config["database_url"], config["db_pool_size"])
            if name != "migrate":
                migrations.migrate()  # an account can be made before the first start
        print(action(config))
        return 0
    except AppError as exc:
        print(f"{name}: {exc.message}", file=sys.stderr)
        return 1
    except (CommandError, BackupError, DatabaseUnavailable, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        close_db()
