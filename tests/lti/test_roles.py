"""Role mapping from LTI role URIs to the tool's roles."""

from lti_tool.lti.roles import Role, map_roles

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
S = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


def test_context_roles_full_and_short_forms():
    """Full and short context role names map the same way."""
    assert map_roles([M + "Instructor"]) == map_roles(["Instructor"]) == Role.INSTRUCTOR
    assert map_roles([M + "Learner"]) == map_roles(["Learner"]) == Role.LEARNER


def test_institution_and_system_administrators_are_admins():
    """Institution and system administrators map to Admin."""
    assert map_roles([INST + "Administrator"]) == Role.ADMIN
    assert map_roles([S + "SysAdmin"]) == Role.ADMIN


def test_institution_student_is_learner_and_unknown_grants_nothing():
    """An institution Student is a learner; unknown roles grant no access."""
    assert map_roles([INST + "Student"]) == Role.LEARNER
    assert map_roles(["http://example.com/x#Chef"]) == Role.NONE
    assert map_roles([]) == Role.NONE


def test_teaching_assistant_sub_role_counts_as_instructor():
    """The TA sub-role of Instructor reaches instructor pages; the highest role wins."""
    assert (
        map_roles(
            ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"]
        )
        == Role.INSTRUCTOR
    )
    assert map_roles([M + "Learner", M + "Instructor"]) == Role.INSTRUCTOR
