import pytest

from groups.factories import make_group, make_participant
from patas.core.models import AuditEntry
from patas.groups import actions, pseudonyms
from patas.groups.models import Membership
from patas.groups.placement import (
    GroupLoad,
    Seat,
    in_order_of_enrolment,
    random_seeded,
    stratified,
)

# --- pseudonyms ---------------------------------------------------------------------------------


def test_pseudonyms_are_readable_spanish_with_agreement():
    names = pseudonyms.all_pseudonyms()
    assert "Cóndor Alegre" in names and "Puma Tranquilo" in names
    assert "Llama Tranquila" in names and "Llama Tranquilo" not in names
    assert len(names) == len(set(names)) >= 1000
    assert not any(ch.isdigit() for name in names for ch in name)


def test_the_same_man_in_the_same_group_gets_the_same_pseudonym():
    assert pseudonyms.choose("g1", "p1", []) == pseudonyms.choose("g1", "p1", [])


def test_a_taken_pseudonym_is_skipped():
    first = pseudonyms.choose("g1", "p1", [])
    second = pseudonyms.choose("g1", "p1", [first])
    assert second != first


def test_fifty_men_get_fifty_different_pseudonyms():
    taken: list[str] = []
    for n in range(50):
        taken.append(pseudonyms.choose("group", f"man-{n}", taken))
    assert len(set(taken)) == 50


# --- placement rules (pure) ----------------------------------------------------------------------

LOADS = [GroupLoad(1, 50, 50), GroupLoad(2, 10, 50), GroupLoad(3, 0, 50)]


def test_in_order_of_enrolment_fills_the_oldest_group_with_room():
    assert in_order_of_enrolment(LOADS, Seat("x")) == 2
    assert in_order_of_enrolment([GroupLoad(1, 50, 50)], Seat("x")) is None


def test_random_is_seeded_and_only_picks_groups_with_room():
    picks = {random_seeded(LOADS, Seat(f"man-{n}"), seed="s") for n in range(40)}
    assert picks == {2, 3}
    assert random_seeded(LOADS, Seat("man-7"), seed="s") == random_seeded(
        LOADS, Seat("man-7"), seed="s"
    )


def test_stratified_spreads_a_stratum_across_groups():
    loads = [
        GroupLoad(1, 5, 50, {"physical": 3, "none": 2}),
        GroupLoad(2, 6, 50, {"physical": 1, "none": 5}),
    ]
    assert stratified(loads, Seat("x", "physical")) == 2
    assert stratified(loads, Seat("x", "none")) == 1
    assert stratified(loads, Seat("x", "sexual")) == 1  # tie on stratum: the smaller group


# --- placement (shell) ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_place_fills_groups_up_to_the_cap_then_opens_a_new_one(pack, vclock):
    group = make_group(size_cap=2)
    men = [make_participant() for _ in range(3)]
    placed = [actions.place(m) for m in men]
    assert [p.group_id for p in placed[:2]] == [group.pk, group.pk]
    assert placed[2].group_id != group.pk
    assert placed[2].group.program == group.program
    assert AuditEntry.objects.filter(action="group.place").count() == 3


@pytest.mark.django_db
def test_place_is_idempotent_and_welcomes_him_with_his_pseudonym(pack, vclock):
    make_group()
    man = make_participant()
    first = actions.place(man)
    assert actions.place(man).pk == first.pk
    assert Membership.objects.filter(participant=man).count() == 1
    welcome = man.messages.get(direction="out")
    assert first.pseudonym in welcome.text and "50" in welcome.text
    assert man.profile_name not in first.pseudonym


@pytest.mark.django_db
def test_stratified_placement_balances_strata(pack, vclock, settings):
    settings.GROUP_PLACEMENT = "stratified"
    settings.GROUP_STRATUM_FUNCTION = "groups.test_pseudonyms_placement.stratum_from_name"
    a, b = make_group(), make_group()
    for n in range(8):
        actions.place(make_participant(profile_name="physical" if n < 4 else "none"))
    for group in (a, b):
        strata = sorted(group.memberships.values_list("stratum", flat=True))
        assert strata == ["none", "none", "physical", "physical"]


def stratum_from_name(participant):
    return participant.profile_name


@pytest.mark.django_db
def test_an_unknown_rule_is_a_clear_error(pack, vclock, settings):
    settings.GROUP_PLACEMENT = "alphabetical"
    with pytest.raises(ValueError, match="alphabetical"):
        actions.place(make_participant())
    assert not Membership.objects.exists()
