"""`python -m jirasim --port 8090`: run the Jira simulator standalone."""

from __future__ import annotations

import argparse

from jirasim.server import run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m jirasim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--seed", action=argparse.BooleanOptionalAction, default=True, help="demo projects/users"
    )
    parser.add_argument("--flavor", choices=["cloud", "server"], default="cloud")
    args = parser.parse_args()
    run(args.host, args.port, args.seed, args.flavor)


if __name__ == "__main__":
    main()
