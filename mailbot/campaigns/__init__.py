"""The campaigns staff define, as plain immutable data, one package per kind.

`survey`, `course`, `recruitment` and `update` each hold the kind's model (`model`) and its
schedules/ file (`file`: shape, meaning, FILE:LINE problems, the campaign it becomes);
`questions` what they share (questions, answers, audiences), `forms` the small surveys a course
or recruitment is answered through. `mailbot.schedules` reads the folder, one registry line per
kind. Everything else (planner, composer, reply parser, results) reads these types only. Times are
timezone-aware (the panel's zone); the planner compares them with an aware `now` it is given.

The names are re-exported here, so `from mailbot.campaigns import Survey` works everywhere.
"""

from __future__ import annotations

from mailbot.campaigns.course.model import Cohort, Course, LateJoiners, Lesson
from mailbot.campaigns.questions import (
    OPTION_KEYS,
    AnswerValue,
    Audience,
    EarlierAnswer,
    Question,
    QuestionType,
    ResultsPolicy,
)
from mailbot.campaigns.recruitment.model import Meeting, Recruitment, Selection
from mailbot.campaigns.survey.model import CampaignForm, FormPurpose, Survey
from mailbot.campaigns.update.model import Update, UpdateAudience

Campaign = Survey | Course | Recruitment | Update

__all__ = [
    "OPTION_KEYS",
    "AnswerValue",
    "Audience",
    "Campaign",
    "CampaignForm",
    "Cohort",
    "Course",
    "EarlierAnswer",
    "FormPurpose",
    "LateJoiners",
    "Lesson",
    "Meeting",
    "Question",
    "QuestionType",
    "Recruitment",
    "ResultsPolicy",
    "Selection",
    "Survey",
    "Update",
    "UpdateAudience",
]
