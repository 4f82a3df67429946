"""The ``gobrs`` command: one refreshing session for every process and AWS
SDK on a host (docs/serve.md).

``gobrs serve CONFIG`` serves a session with the AWS container-credentials
protocol; ``gobrs exec CONFIG -- CMD...`` does so for the lifetime of a
command; ``gobrs credential-process [CONFIG]`` prints credential_process
JSON. This module only parses arguments and calls the Go library: the
server, the session and the config rules live in Go.

Exit codes: 0 success; 1 a runtime failure (no credentials to be had, the
server could not run, a server answered with an error); 2 a usage or config
error (the message names the key); ``exec`` exits with the command's status
(128+N when a signal N ended it, 127 when it was not found, 126 when it
could not be run).
"""

from __future__ import annotations

__all__ = ["main", "load_config", "ConfigError"]

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2

EXIT_CODES = """\
exit status:
  0    success
  1    runtime failure: no credentials to be had, the server could not run,
       a running server answered with an error
  2    usage or config error (the message names the option or config key)
"""

SERVE_HELP = """\
Open the session CONFIG (and the session flags) describe and serve it on a
loopback address with the AWS container-credentials protocol. Once
listening, print on stdout

  AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/PATH
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/abs/path/to/token

An AWS SDK with those two variables set reads the session. Ctrl-C, SIGTERM
or SIGHUP stops the server and removes its files.

CONFIG is a JSON or TOML (.toml) file with the keys of brs_new_session, e.g.
  {"method": "sts", "assume_role_kwargs": {"RoleArn": "arn:aws:iam::..."}}
  {"method": "custom", "credential_process": "command args"}
See docs/serve.md.
"""

EXEC_HELP = """\
Serve the session while COMMAND runs, with AWS_CONTAINER_CREDENTIALS_FULL_URI
and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (and AWS_REGION, from --region or
sts_client_kwargs.region_name) set in its environment, and the variables that
would win over them in an SDK's credential chain (AWS_ACCESS_KEY_ID,
AWS_PROFILE, ...) removed. SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are
passed on to COMMAND; Ctrl-C reaches it through the terminal.
"""

EXEC_EXIT_CODES = """\
exit status:
  COMMAND's own; 128+N when signal N ended it
  127  COMMAND not found
  126  COMMAND could not be run
  1    runtime failure before COMMAND started (no credentials to be had)
  2    usage or config error (the message names the option or config key)
"""

CREDENTIAL_PROCESS_HELP = """\
Print AWS credential_process JSON (Version 1) on stdout, for a profile's

  credential_process = gobrs credential-process --env-file /run/gobrs/env

With --env-file (or AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE set) the credentials come from that
running `gobrs serve`, so any number of invocations cause one refresh;
otherwise the session of CONFIG (and the session flags) is opened once.
"""

#: Variables removed from the environment of ``exec``'s command: each would
#: win over the server in an AWS SDK's default credential chain.
SHADOWING_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)

log = logging.getLogger("gobrs.cli")


class ConfigError(Exception):
    """A config file that cannot be read or parsed (exit status 2)."""


class UsageError(Exception):
    """Arguments that do not fit together (exit status 2)."""


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    obj: Dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ConfigError(f"key {key!r} appears twice in one object; give each key once")
        obj[key] = value
    return obj


def load_config(path: str) -> Dict[str, Any]:
    """Read a session config (the JSON config of ``brs_new_session``) from
    a JSON or TOML file: ``.toml`` is TOML, anything else JSON.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    Dict[str, Any]
        The config object.

    Raises
    ------
    ConfigError
        When the file cannot be read, is not valid JSON/TOML, or is not an
        object (table).
    """

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    if path.endswith(".toml"):
        toml = _toml_loader()
        try:
            config = toml(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"the config file {path} is not UTF-8") from None
        except ValueError as exc:  # tomllib.TOMLDecodeError
            raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
    else:
        try:
            config = json.loads(data, object_pairs_hook=_no_duplicates)
        except ConfigError as exc:
            raise ConfigError(f"the config file {path}: {exc}") from None
        except ValueError as exc:
            raise ConfigError(f"the config file {path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"the config file {path} must hold an object (a table), not {type(config).__name__}")
    return config


def _toml_loader() -> Callable[[str], Dict[str, Any]]:
    try:
        import tomllib  # novermin (3.10 falls back to tomli below)
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
        except ImportError:
            raise ConfigError(
                "TOML configs need Python 3.11 or later, or the tomli package on Python 3.10 "
                "(pip install tomli); or write the config as JSON"
            ) from None
    loads: Callable[[str], Dict[str, Any]] = tomllib.loads
    return loads


def _serve_options(args: argparse.Namespace) -> Dict[str, Any]:
    """The brs_serve options the command line sets."""

    names = (
        "listen",
        "path",
        "token_file",
        "env_file",
        "max_connections",
        "max_requests_per_second",
        "request_timeout",
    )
    options: Dict[str, Any] = {"log_requests": getattr(args, "verbose", 0) > 0}
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            options[name] = os.path.abspath(value) if name in ("token_file", "env_file") else value
    return options


def _setup_logging(verbosity: int) -> None:
    level = logging.INFO if verbosity == 0 else logging.DEBUG if verbosity > 0 else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("gobrs", "gobrs.cli"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False


def _fail(status: int, message: str) -> NoReturn:
    print(f"gobrs: {message}", file=sys.stderr, flush=True)
    raise SystemExit(status)


#: Session flags: (option dest, config path, method it implies).
_SESSION_FLAGS: Tuple[Tuple[str, Tuple[str, ...], str], ...] = (
    ("role_arn", ("assume_role_kwargs", "RoleArn"), "sts"),
    ("role_session_name", ("assume_role_kwargs", "RoleSessionName"), "sts"),
    ("duration_seconds", ("assume_role_kwargs", "DurationSeconds"), "sts"),
    ("mfa_serial", ("assume_role_kwargs", "SerialNumber"), "sts"),
    ("mfa_command", ("mfa_token_provider",), "sts"),
    ("sts_region", ("sts_client_kwargs", "region_name"), "sts"),
    ("sts_endpoint_url", ("sts_client_kwargs", "endpoint_url"), "sts"),
    ("credential_process", ("credential_process",), "custom"),
    ("background_refresh", ("background_refresh",), ""),
)


def session_config(args: argparse.Namespace) -> Dict[str, Any]:
    """The session config: CONFIG's, with the session flags set over it.

    Raises
    ------
    ConfigError
        When the file cannot be read, or a flag's table in it is not one.
    UsageError
        When there is neither CONFIG nor a flag that names a method.
    """

    config: Dict[str, Any] = load_config(args.config) if args.config else {}
    for dest, path, method in _SESSION_FLAGS:
        value = getattr(args, dest, None)
        if value is None or value is False:
            continue
        if method and "method" not in config and not args.config:
            config["method"] = method
        table = config
        for key in path[:-1]:
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{key} in the config must be an object (a table) to take --{dest.replace('_', '-')}")
        table[path[-1]] = value
    if not config:
        raise UsageError("give a CONFIG file, or --role-arn (sts) or --credential-process (custom)")
    return config


def _open(args: argparse.Namespace) -> Any:
    """Open the session of CONFIG and the session flags."""

    from ._lib import NativeSession

    return NativeSession(session_config(args))


def _status_of(exc: BaseException) -> int:
    from .exceptions import BRSConfigurationError, BRSValidationError

    if isinstance(exc, (ConfigError, UsageError, BRSValidationError, BRSConfigurationError)):
        return EXIT_USAGE
    return EXIT_RUNTIME


class _Stopper:
    """Turns SIGINT/SIGTERM/SIGHUP into an event the main thread waits on."""

    def __init__(self, signals: Sequence[int]) -> None:
        self.event = threading.Event()
        self.signum = 0
        for sig in signals:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: Optional[FrameType]) -> None:
        self.signum = signum
        self.event.set()

    def wait(self) -> None:
        while not self.event.wait(1.0):
            pass


def cmd_serve(args: argparse.Namespace) -> int:
    """``gobrs serve``: serve until a signal; 0 once stopped."""

    from .serve import Server

    stopper = _Stopper((signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    session = _open(args)
    try:
        if not args.lazy:
            session.credentials()  # fail now, not at the first client
        server = Server(session, _serve_options(args))
        try:
            sys.stdout.write(server.env_lines())
            sys.stdout.flush()
            log.info("gobrs serve: serving %s (token in %s); Ctrl-C or SIGTERM stops", server.url, server.token_file)
            stopper.wait()
            log.info("gobrs serve: stopping (signal %d)", stopper.signum)
        finally:
            server.stop()
    finally:
        session.close()
    return EXIT_OK


def _region(args: argparse.Namespace, config: Dict[str, Any]) -> Optional[str]:
    if args.region:
        return str(args.region)
    client = config.get("sts_client_kwargs")
    if isinstance(client, dict) and isinstance(client.get("region_name"), str):
        return str(client["region_name"])
    return None


def cmd_exec(args: argparse.Namespace) -> int:
    """``gobrs exec``: serve while the command runs; its exit status."""

    from ._lib import NativeSession
    from .serve import Server

    command = list(args.command)
    if not command:
        raise UsageError("exec needs a command after --: gobrs exec CONFIG -- COMMAND [ARGS...]")
    config = session_config(args)
    region = _region(args, config)
    forward = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
    child: List[subprocess.Popen[bytes]] = []
    pending: List[int] = []

    def relay(signum: int, _frame: Optional[FrameType]) -> None:
        if child:
            child[0].send_signal(signum)
        else:
            pending.append(signum)

    for sig in forward:
        signal.signal(sig, relay)
    # Ctrl-C reaches the command through the terminal (same process group);
    # gobrs waits for the command to end instead of dying first. A handler,
    # not SIG_IGN: an ignored signal would stay ignored in the command.
    signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    session = NativeSession(config)
    try:
        if not args.lazy:
            session.credentials()
        with Server(session, _serve_options(args)) as server:
            env = {k: v for k, v in os.environ.items() if k not in SHADOWING_VARS}
            env.update(server.env())
            if region:
                env["AWS_REGION"] = region
                env["AWS_DEFAULT_REGION"] = region
            log.debug("gobrs exec: serving %s for %s", server.url, command[0])
            if pending:
                return 128 + pending[0]
            try:
                proc = subprocess.Popen(command, env=env, restore_signals=True)
            except FileNotFoundError:
                _fail(127, f"exec: command not found: {command[0]}")
            except PermissionError:
                _fail(126, f"exec: permission denied: {command[0]}")
            except OSError as exc:
                _fail(126, f"exec: cannot run {command[0]}: {exc.strerror or exc}")
            child.append(proc)
            for signum in pending:
                proc.send_signal(signum)
            rc = proc.wait()
    finally:
        session.close()
    return 128 - rc if rc < 0 else rc


def _read_env_file(path: str) -> Dict[str, str]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read the env file {path}: {exc.strerror or exc}") from None
    env: Dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            env[name.strip()] = value.strip()
    return env


def _from_server(url: str, token_file: str) -> Dict[str, Any]:
    """GET the credentials from a container-credentials server."""

    from .serve import TOKEN_FILE_VAR

    try:
        token = Path(token_file).read_text().strip()
    except OSError as exc:  # the server is gone, most likely: a runtime failure
        raise RuntimeError(
            f"cannot read the token file {token_file} ({TOKEN_FILE_VAR}; is the server running?): {exc.strerror or exc}"
        ) from None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    request = urllib.request.Request(url, headers={"Authorization": token})
    try:
        with opener.open(request, timeout=40) as response:
            body = response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        detail = exc.read(4096).decode("utf-8", "replace")
        try:
            detail = str(json.loads(detail).get("message", detail))
        except (ValueError, AttributeError):
            pass
        raise RuntimeError(f"the server at {url} answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RuntimeError(f"cannot reach the server at {url}: {reason}") from None
    try:
        creds: Dict[str, Any] = json.loads(body)
        return {
            "AccessKeyId": creds["AccessKeyId"],
            "SecretAccessKey": creds["SecretAccessKey"],
            "SessionToken": creds["Token"],
            "Expiration": creds["Expiration"],
        }
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(f"the server at {url} did not answer with credentials") from None


def cmd_credential_process(args: argparse.Namespace) -> int:
    """``gobrs credential-process``: print credential_process JSON."""

    from .serve import TOKEN_FILE_VAR, URL_VAR

    if args.env_file:
        env = _read_env_file(args.env_file)
        if URL_VAR not in env or TOKEN_FILE_VAR not in env:
            raise UsageError(f"the env file {args.env_file} does not set {URL_VAR} and {TOKEN_FILE_VAR}")
    else:
        env = dict(os.environ)
    if URL_VAR in env and TOKEN_FILE_VAR in env:
        out = _from_server(env[URL_VAR], env[TOKEN_FILE_VAR])
    elif args.config or any(getattr(args, d, None) not in (None, False) for d, _, _ in _SESSION_FLAGS):
        session = _open(args)
        try:
            ak, sk, token, _expiry, expiry_ms, _valid = session.credentials()
        finally:
            session.close()
        # Milliseconds kept: cut to the second, the expiry would end early.
        expiry = datetime.fromtimestamp(expiry_ms / 1000, tz=timezone.utc)
        out = {
            "AccessKeyId": ak,
            "SecretAccessKey": sk,
            "SessionToken": token,
            "Expiration": expiry.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
    else:
        raise UsageError(f"credential-process needs CONFIG, --env-file, or {URL_VAR} and {TOKEN_FILE_VAR} set")
    sys.stdout.write(json.dumps({"Version": 1, **out}) + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _add_session_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "session flags", "instead of a CONFIG file, or set over its keys (method sts unless --credential-process)"
    )
    g.add_argument("--role-arn", metavar="ARN", help="assume_role_kwargs.RoleArn")
    g.add_argument("--role-session-name", metavar="NAME", help="assume_role_kwargs.RoleSessionName")
    g.add_argument("--duration-seconds", type=int, metavar="N", help="assume_role_kwargs.DurationSeconds")
    g.add_argument("--mfa-serial", metavar="ARN", help="assume_role_kwargs.SerialNumber")
    g.add_argument("--mfa-command", metavar="CMD", help="mfa_token_provider: a command that prints the MFA code")
    g.add_argument("--sts-region", metavar="REGION", help="sts_client_kwargs.region_name")
    g.add_argument("--sts-endpoint-url", metavar="URL", help="sts_client_kwargs.endpoint_url")
    g.add_argument(
        "--credential-process",
        metavar="CMD",
        help="method custom: a command printing credential_process JSON (run without a shell)",
    )
    g.add_argument("--background-refresh", action="store_true", default=None, help="renew ahead of expiry")


def _add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="loopback address to bind (default 127.0.0.1:0: a free port); [::1]:PORT for IPv6; "
        "other hosts are refused",
    )
    p.add_argument("--path", metavar="PATH", help="the one path served (default /credentials)")
    p.add_argument(
        "--token-file",
        metavar="PATH",
        help="write the token here (a new 0600 file; default: a private temporary directory, removed on exit)",
    )
    p.add_argument(
        "--env-file",
        metavar="PATH",
        help="also write the two variable lines to this file (0600, atomically) once listening; removed on exit",
    )
    p.add_argument("--max-connections", type=int, metavar="N", help="connections open at once (default 128)")
    p.add_argument(
        "--max-requests-per-second", type=float, metavar="R", help="request rate, all clients (default 1000)"
    )
    p.add_argument(
        "--request-timeout", type=float, metavar="SECONDS", help="how long a request waits for a refresh (default 30)"
    )
    p.add_argument(
        "--lazy",
        action="store_true",
        help="do not fetch credentials before serving (by default a failure to get them exits at once)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gobrs`` command."""

    from ._version import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    common = argparse.ArgumentParser(add_help=False)
    parser = argparse.ArgumentParser(
        prog="gobrs",
        description="One refreshing AWS session for every process and SDK on this host (docs/serve.md).",
        epilog=EXIT_CODES,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"gobrs {__version__}")
    # -v and -q go before or after the command; SUPPRESS keeps a
    # subcommand's absent flag from resetting the main parser's
    for p, default_v, default_q in ((parser, 0, False), (common, argparse.SUPPRESS, argparse.SUPPRESS)):
        p.add_argument("-v", "--verbose", action="count", default=default_v, help="log every request on stderr")
        p.add_argument("-q", "--quiet", action="store_true", default=default_q, help="log only warnings and errors")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    sub.required = True

    def command(name: str, help: str, description: str, epilog: str, **kwargs: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, parents=[common], help=help, formatter_class=fmt, description=description, epilog=epilog, **kwargs
        )
        p.add_argument("config", metavar="CONFIG", nargs="?", help="session config file (.json or .toml)")
        return p

    serve = command("serve", "serve a session with the AWS container-credentials protocol", SERVE_HELP, EXIT_CODES)
    _add_session_options(serve)
    _add_serve_options(serve)
    serve.set_defaults(run=cmd_serve)

    run = command(
        "exec",
        "run a command with a server for its lifetime",
        EXEC_HELP,
        EXEC_EXIT_CODES,
        usage="gobrs exec [options] [CONFIG] -- COMMAND [ARGS...]",
    )
    run.add_argument("--region", metavar="REGION", help="AWS_REGION for COMMAND")
    _add_session_options(run)
    _add_serve_options(run)
    run.add_argument("command", nargs="*", metavar="-- COMMAND", help="the command and its arguments, after --")
    run.set_defaults(run=cmd_exec)

    cp = command(
        "credential-process", "print credential_process JSON (for ~/.aws/config)", CREDENTIAL_PROCESS_HELP, EXIT_CODES
    )
    cp.add_argument("--env-file", metavar="PATH", help="the env file of a running `gobrs serve --env-file`")
    _add_session_options(cp)
    cp.set_defaults(run=cmd_credential_process)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``gobrs`` command.

    Parameters
    ----------
    argv : Sequence[str], optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # exec's command starts after the first "--": split there before
    # argparse, which would otherwise take options after CONFIG as the
    # command's (or the command's as its own)
    tail: Optional[List[str]] = None
    if "exec" in argv and "--" in argv and argv.index("exec") < argv.index("--"):
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    if tail is not None and args.command_name == "exec":
        args.command = list(args.command) + tail
    # exec is quiet unless asked: its stderr is the command's too
    quiet = args.quiet or (args.command_name == "exec" and not args.verbose)
    _setup_logging(-1 if quiet else args.verbose)
    try:
        status: int = args.run(args)
        return status
    except SystemExit:
        raise
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Exception as exc:  # every failure is a message and a status, never a traceback
        status = _status_of(exc)
        print(f"gobrs {args.command_name}: {exc}", file=sys.stderr, flush=True)
        return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
