"""LeanSerializer (oms.core.api.base): every serializer of the API copies its plain declared
fields shallowly instead of building each anew, so it must behave exactly like DRF's."""

from __future__ import annotations

from rest_framework import serializers

from oms.core.api.base import LeanSerializer


class LineIn(LeanSerializer):
    sku = serializers.RegexField(r"^[A-Z]+$", max_length=8)
    quantity = serializers.IntegerField(min_value=1)


class BasketIn(LeanSerializer):
    reference = serializers.CharField(max_length=5)
    lines = LineIn(many=True, allow_empty=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


class PlainBasketIn(serializers.Serializer):  # the same, as DRF builds it
    reference = serializers.CharField(max_length=5)
    lines = LineIn(many=True, allow_empty=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


def errors(serializer_class: type[serializers.Serializer], data: dict) -> dict | None:
    serializer = serializer_class(data=data)
    return None if serializer.is_valid() else serializer.errors


def test_it_accepts_and_refuses_exactly_what_drf_does() -> None:
    cases = [
        {"reference": "R1", "lines": [{"sku": "ABC", "quantity": 2}], "tags": ["x"]},
        {"reference": "TOO-LONG", "lines": [{"sku": "abc", "quantity": 0}], "tags": ["long"]},
        {"reference": "R2", "lines": []},
        {"lines": [{"sku": "ABCDEFGHIJ"}]},
    ]
    for data in cases:
        assert errors(BasketIn, data) == errors(PlainBasketIn, data), data
    good = BasketIn(data=cases[0])
    assert good.is_valid()
    assert good.validated_data == {"reference": "R1", "lines": [{"sku": "ABC", "quantity": 2}],
                                   "tags": ["x"]}


def test_each_instance_binds_its_own_copies_and_leaves_the_declaration_unbound() -> None:
    # Given two instances
    first, second = BasketIn(data={}), BasketIn(data={})
    # Then each has its own fields, bound to it
    assert first.fields["reference"] is not second.fields["reference"]
    assert first.fields["reference"].parent is first
    assert second.fields["reference"].parent is second
    # And nested serializers and child fields are copies of their own too
    assert first.fields["lines"] is not second.fields["lines"]
    assert first.fields["lines"].child is not second.fields["lines"].child
    assert first.fields["tags"].child is not second.fields["tags"].child
    # And the declared fields were never bound, so the next instance binds them afresh
    declared = BasketIn._declared_fields["reference"]
    assert declared.parent is None and declared.field_name is None and declared.source is None
    assert BasketIn(data={"reference": "R3", "lines": [{"sku": "A", "quantity": 1}]}).is_valid()


def test_what_one_instance_changes_on_its_fields_does_not_reach_the_next() -> None:
    # Given an instance whose field got an extra validator and another error message
    def no_x(value: str) -> None:
        if "X" in value:
            raise serializers.ValidationError("no X")

    first = BasketIn(data={"reference": "X1", "lines": [{"sku": "A", "quantity": 1}]})
    first.fields["reference"].validators.append(no_x)
    first.fields["reference"].error_messages["max_length"] = "changed"
    assert not first.is_valid()
    # Then the next instance has neither
    second = BasketIn(data={"reference": "X1", "lines": [{"sku": "A", "quantity": 1}]})
    assert second.is_valid(), second.errors
    assert second.fields["reference"].error_messages["max_length"] != "changed"


class TaggedIn(LeanSerializer):
    labels = serializers.JSONField(default=[])  # a mutable default, not a callable


def test_a_mutable_default_is_not_shared_between_instances() -> None:
    first = TaggedIn(data={})
    assert first.is_valid()
    first.validated_data["labels"].append("dirty")
    second = TaggedIn(data={})
    assert second.is_valid()
    assert second.validated_data["labels"] == []
