import pytest

from workbench.skills.raters import MIN_ANONYMOUS_RATERS, included_sheets, visible_roles


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


def test_anonymous_roles_enter_in_blocks_of_three_in_submission_order():
    sheets = [("s", "self"), ("m", "manager"), ("p1", "peer"), ("p2", "peer"), ("d1", "direct_report")]
    assert included_sheets(sheets) == ["m"]
    sheets += [("p3", "peer")]
    assert included_sheets(sheets) == ["m", "p1", "p2", "p3"]
    # a fourth and fifth peer change nothing the leader sees; the sixth brings all three in at once
    sheets += [("p4", "peer"), ("p5", "peer")]
    assert included_sheets(sheets) == ["m", "p1", "p2", "p3"]
    assert included_sheets(sheets + [("p6", "peer")]) == ["m", "p1", "p2", "p3", "p4", "p5", "p6"]
    assert included_sheets(sheets, min_anonymous=2) == ["m", "p1", "p2", "p3", "p4"]
