"""Steps on their own: validation, durations, and where an enrollment stands after an edit."""

from __future__ import annotations

import pytest

from domains.cadences.steps import (
    INVALID_STEPS,
    MAX_STEPS,
    MAX_WAIT_SECONDS,
    UNKNOWN_TEMPLATE,
    Step,
    StepsInvalid,
    StepType,
    check_steps,
    format_duration,
    parse_duration,
    position_after_edit,
)


def send(id: str, template: str = "welcome") -> Step:
    return Step(id=id, type=StepType.SEND_EMAIL, template=template, subject=f"subject {id}")


def wait(id: str, seconds: int = 3600) -> Step:
    return Step(id=id, type=StepType.WAIT, seconds=seconds)


# --- position_after_edit ---------------------------------------------------------------------

OLD = [send("s1"), wait("s2"), send("s3"), wait("s4"), send("s5")]


def test_an_edit_that_keeps_the_current_step_keeps_the_position_on_it():
    new = [send("s1"), wait("s2", 60), send("s3"), wait("s4"), send("s5")]
    assert position_after_edit(OLD, 1, new, done=["s1"]) == 1


def test_a_step_added_before_the_current_one_moves_the_index_not_the_step():
    new = [send("n1"), *OLD]
    assert position_after_edit(OLD, 1, new, done=["s1"]) == 2  # still s2


def test_a_step_added_after_the_current_one_is_reached():
    new = [send("s1"), wait("s2"), send("n1"), send("s3")]
    at = position_after_edit(OLD, 1, new, done=["s1"])
    assert new[at].id == "s2" and "n1" in [s.id for s in new[at:]]


def test_removing_the_current_step_moves_to_the_next_surviving_one():
    new = [send("s1"), wait("s4"), send("s5")]  # s2 (current) and s3 gone
    assert new[position_after_edit(OLD, 1, new, done=["s1"])].id == "s4"


def test_when_nothing_after_the_position_survives_it_continues_after_the_last_step_done():
    new = [send("s1"), send("n1")]
    assert position_after_edit(OLD, 1, new, done=["s1"]) == 1  # the new step after what was sent
    assert position_after_edit(OLD, 3, [send("s3"), send("s1")], done=["s1", "s2", "s3"]) == 2  # the end


def test_when_nothing_survives_and_nothing_done_is_left_the_index_is_kept_within_the_list():
    assert position_after_edit(OLD, 4, [send("n1"), send("n2")], done=["s1", "s2", "s3", "s4"]) == 2
    assert position_after_edit(OLD, 0, [send("n1")], done=[]) == 0


def test_a_done_step_moved_after_the_position_stays_behind_it():
    new = [wait("s2"), send("s1"), send("s3")]
    at = position_after_edit(OLD, 1, new, done=["s1"])
    assert new[at].id == "s2"  # s1 comes after, and the walk skips it as done


def test_a_finished_enrollment_stays_finished():
    assert position_after_edit(OLD, 5, [*OLD, send("n1")], done=[s.id for s in OLD]) == 5


# --- durations -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,seconds", [
    ("2d 4h", 2 * 86400 + 4 * 3600), ("90m", 5400), ("45s", 45), ("1w", 7 * 86400), ("3600", 3600),
    (" 1D2H ", 86400 + 7200), ("1h 30m", 5400), ("0", 0)])
def test_parse_duration_reads_what_staff_type(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "  ", "soon", "2x", "2 days", "-1h", "1.5h", "h", "2d and 4h", "1d4"])
def test_parse_duration_refuses_anything_else(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("seconds,text", [
    (0, "0s"), (45, "45s"), (5400, "1h 30m"), (86400, "1d"), (7 * 86400 + 3601, "1w 1h 1s"), (59.9, "59s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_and_parse_round_trip():
    for seconds in (1, 61, 3600, 90061, 12 * 86400 + 5):
        assert parse_duration(format_duration(seconds)) == seconds


# --- check_steps -----------------------------------------------------------------------------

def refusal(steps, templates=None) -> StepsInvalid:
    with pytest.raises(StepsInvalid) as refused:
        check_steps(steps, templates)
    return refused.value


def test_good_steps_pass():
    check_steps([send(""), wait("", 1), send("", "follow_up")], templates={"welcome", "follow_up"})
    check_steps([send("s1", "anything")])  # templates are checked only when given
    check_steps([wait("", MAX_WAIT_SECONDS)])  # a year is allowed


@pytest.mark.parametrize("steps,words", [
    ([], "at least one step"),
    ([wait("", 0)], "positive duration"),
    ([wait("", -5)], "positive duration"),
    ([Step(type=StepType.WAIT)], "positive duration"),
    ([wait("", MAX_WAIT_SECONDS + 1)], "at most a year"),
    ([Step(type=StepType.SEND_EMAIL, subject="Hi")], "needs a template"),
    ([Step(type=StepType.SEND_EMAIL, template="welcome", subject="   ")], "needs a subject"),
    ([send("s1"), wait("s1")], "appears twice"),
    ([send("")] * (MAX_STEPS + 1), f"at most {MAX_STEPS}"),
])
def test_steps_that_cannot_run_are_refused(steps, words):
    error = refusal(steps)
    assert error.code == INVALID_STEPS and words in str(error)


def test_a_step_names_the_step_at_fault():
    assert str(refusal([send("s1"), wait("s2", 0)])).startswith("step 2:")


def test_an_unknown_template_has_its_own_code():
    error = refusal([send("", "welcome"), send("", "no_such")], templates={"welcome"})
    assert error.code == UNKNOWN_TEMPLATE and "no_such" in str(error)
