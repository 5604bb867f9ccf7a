"""`rasa data validate`, failing on any warning except the ones Rasa 3.6 raises wrongly:
responses used by forms (utter_ask_<slot>) and by custom actions look unused to it."""

from __future__ import annotations

import re
import subprocess
import sys

from server.launch import ROOT, VENV_BIN

# Responses that are used, but not by a story or rule step Rasa's validator can see.
USED_OUTSIDE_STORIES = re.compile(r"The utterance '(utter_ask_\w+|utter_clarify|utter_out_of_scope|utter_capabilities|utter_bot_challenge|utter_deny|utter_affirm|utter_score_outside_check|utter_new_topic)' is not used in any story or rule")


def main() -> int:
    result = subprocess.run([str(VENV_BIN / "rasa"), "data", "validate", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    warnings = [
        line.split("UserWarning: ", 1)[1]
        for line in output.splitlines()
        if "UserWarning: " in line and not USED_OUTSIDE_STORIES.search(line)
    ]
    for warning in warnings:
        print(f"warning: {warning}")
    if result.returncode != 0:
        print(output)
        return result.returncode
    print("Rasa data validation: no warnings." if not warnings else f"{len(warnings)} warning(s).")
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
