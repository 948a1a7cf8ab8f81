"""A process that starts other programs when asked: Python ones and others.

Usage: python3 launcher_service.py STATE_DIR
Writes STATE_DIR/ready, then waits. Each SIGUSR1 runs every line of STATE_DIR/commands (a JSON
list of argv lists) to its end with subprocess.run, then writes STATE_DIR/done-<n>."""
import json
import os
import signal
import subprocess
import sys


def main():
    state_dir = sys.argv[1]
    runs = [0]

    def run_commands(signum, frame):
        with open(os.path.join(state_dir, "commands")) as f:
            commands = json.load(f)
        for argv in commands:
            subprocess.run(argv, stdout=subprocess.DEVNULL)
        runs[0] += 1
        with open(os.path.join(state_dir, "done-%d" % runs[0]), "w") as f:
            f.write("ok")

    signal.signal(signal.SIGUSR1, run_commands)
    with open(os.path.join(state_dir, "ready"), "w") as f:
        f.write(str(os.getpid()))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
