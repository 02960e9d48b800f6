"""A feedback request and the rubric a model might return for it, shared by tests."""

from __future__ import annotations

import json
from typing import Any

QUESTION = "Tell me about a time you failed."
ANSWER = (
    "Our release slipped a week. I re-planned the sprint with the team, and I cut two "
    "features. We shipped on the new date and churn fell by 3%."
)
BODY = {"question": QUESTION, "answer": ANSWER}


def model_rubric(**changes: Any) -> str:
    rubric: dict[str, Any] = {
        "star": {"situation": True, "task": False, "action": True, "result": True},
        "first_person": True,
        "quantified_result": True,
        "behavioural": True,
        "conclusion_first": False,
        "score": 4,
        "evidence": {
            "situation": "Our release slipped a week.",
            "task": None,
            "action": "I re-planned the sprint with the team",
            "result": "churn fell by 3%",
        },
        "verdict": "A good answer; say what you were responsible for.",
    }
    rubric.update(changes)
    return json.dumps(rubric)
