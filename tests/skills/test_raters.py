import pytest

from workbench.skills.raters import MIN_ANONYMOUS_RATERS, visible_roles


def test_manager_is_visible_alone_peers_need_three():
    assert visible_roles({"manager": 1, "peer": 2, "direct_report": 5}) == {"manager", "direct_report"}
    assert visible_roles({"peer": MIN_ANONYMOUS_RATERS}) == {"peer"}
    assert visible_roles({"peer": MIN_ANONYMOUS_RATERS - 1, "self": 1}) == frozenset()
    assert visible_roles({}) == frozenset()


def test_threshold_is_a_parameter_and_checked():
    assert visible_roles({"peer": 2}, min_anonymous=2) == {"peer"}
    with pytest.raises(ValueError, match="at least 1"):
        visible_roles({"peer": 2}, min_anonymous=0)
    with pytest.raises(ValueError, match="unknown rater roles"):
        visible_roles({"boss": 1})
