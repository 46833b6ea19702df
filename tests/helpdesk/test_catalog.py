"""The catalogues as a service: required and unique elements, one default status per type, what
a deletion is refused for (its reason in the answer, including the Jira integration's) and what
goes with it (app/helpdesk/catalog.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.errors import BadRequest, Conflict, NotFound
from app.core.events import DomainEvent
from app.core.wire import MAX_ID
from app.helpdesk import schemas
from app.helpdesk.catalog import (
    ACTION_TYPES,
    CUSTOM_FIELDS,
    PRODUCTS,
    TICKET_STATUSES,
    TICKET_TYPES,
    VERSIONS,
    create_item,
    delete_item,
    get_or_404,
    get_referenced,
    update_item,
)
from app.helpdesk.events import ActionTypeDeleteRequested
from app.helpdesk.models import (
    Action,
    ActionType,
    CustomField,
    Product,
    TicketStatus,
    TicketType,
    Version,
)
from app.integration.models import JiraInstance
from tests.support.rows import count
from tests.support.world import new_ticket


async def ticket_type(session: AsyncSession, name: str, *statuses: str) -> TicketType:
    made: TicketType = await create_item(session, TICKET_TYPES, schemas.TicketTypeInput(name=name))
    for status in statuses:
        await create_item(
            session,
            TICKET_STATUSES,
            schemas.TicketStatusInput(name=status, ticket_type_id=made.id),
        )
    return made


async def status(session: AsyncSession, type_id: int, name: str) -> TicketStatus:
    found = await session.scalar(
        select(TicketStatus).where(
            col(TicketStatus.ticket_type_id) == type_id, col(TicketStatus.name) == name
        )
    )
    assert found is not None
    return found


async def defaults(session: AsyncSession) -> dict[int, str]:
    """Each type's default status, by type id."""
    await session.flush()
    query = select(TicketStatus).where(col(TicketStatus.is_default))
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return {row.ticket_type_id: row.name for row in rows}


async def default_instance(session: AsyncSession) -> JiraInstance:
    found = await session.scalar(select(JiraInstance).where(col(JiraInstance.name) == "Default"))
    assert found is not None
    return found


class TestCreateAndUpdate:
    @pytest.mark.parametrize(
        ("spec", "data", "message"),
        [
            (TICKET_TYPES, schemas.TicketTypeInput(), "TicketType needs Name."),
            (
                TICKET_STATUSES,
                schemas.TicketStatusInput(),
                "TicketStatus needs Name, TicketTypeID.",
            ),
            (VERSIONS, schemas.VersionInput(), "Version needs VersionNumber, ProductID."),
            (CUSTOM_FIELDS, schemas.CustomFieldInput(name="x"), "CustomField needs FieldType."),
        ],
    )
    async def test_required_elements_are_named(
        self, session: AsyncSession, spec: Any, data: Any, message: str
    ) -> None:
        with pytest.raises(BadRequest) as refused:
            await create_item(session, spec, data)
        assert refused.value.message == message

    async def test_a_required_element_cannot_be_emptied(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug")
        with pytest.raises(BadRequest, match="Name cannot be empty."):
            await update_item(session, TICKET_TYPES, bug, schemas.TicketTypeInput(name=None))

    async def test_names_are_unique_whatever_their_case(self, session: AsyncSession) -> None:
        await ticket_type(session, "Bug")
        with pytest.raises(Conflict) as refused:
            await ticket_type(session, "BUG")
        assert refused.value.message == "A TicketType with Name 'BUG' exists."
        assert await count(session, TicketType) == 1

    async def test_renaming_to_its_own_name_in_another_case_is_no_clash(
        self, session: AsyncSession
    ) -> None:
        bug = await ticket_type(session, "Bug")
        renamed = await update_item(session, TICKET_TYPES, bug, schemas.TicketTypeInput(name="BUG"))
        assert renamed.name == "BUG"

    async def test_status_names_are_unique_per_type_only(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New")
        task = await ticket_type(session, "Task", "new")
        with pytest.raises(Conflict):
            await create_item(
                session,
                TICKET_STATUSES,
                schemas.TicketStatusInput(name="NEW", ticket_type_id=bug.id),
            )
        assert await defaults(session) == {bug.id: "New", task.id: "new"}

    async def test_a_status_needs_an_existing_type(self, session: AsyncSession) -> None:
        with pytest.raises(BadRequest, match="TicketTypeID 999 does not exist."):
            await create_item(
                session, TICKET_STATUSES, schemas.TicketStatusInput(name="x", ticket_type_id=999)
            )

    async def test_product_and_version_keys_are_upper_cased_or_dropped(
        self, session: AsyncSession
    ) -> None:
        product = await create_item(
            session, PRODUCTS, schemas.ProductInput(name="P", jira_project_key=" abc ")
        )
        version = await create_item(
            session,
            VERSIONS,
            schemas.VersionInput(version_number="1.0", jira_project_key="  "),
            fixed={"product_id": product.id},
        )
        assert (product.jira_project_key, version.jira_project_key) == ("ABC", None)

    async def test_a_product_names_an_existing_jira_instance(self, session: AsyncSession) -> None:
        with pytest.raises(BadRequest, match="JiraInstanceID 999 does not exist."):
            await create_item(
                session, PRODUCTS, schemas.ProductInput(name="P", jira_instance_id=999)
            )
        default = await default_instance(session)
        product = await create_item(
            session, PRODUCTS, schemas.ProductInput(name="P", jira_instance_id=default.id)
        )
        assert product.jira_instance_id == default.id

    async def test_a_version_stays_with_its_product(self, session: AsyncSession) -> None:
        product = await create_item(session, PRODUCTS, schemas.ProductInput(name="P"))
        other = await create_item(session, PRODUCTS, schemas.ProductInput(name="Q"))
        version = await create_item(
            session,
            VERSIONS,
            schemas.VersionInput(version_number="1"),
            fixed={"product_id": product.id},
        )
        with pytest.raises(Conflict, match="A version cannot move to another product."):
            await update_item(session, VERSIONS, version, schemas.VersionInput(product_id=other.id))
        same = await update_item(
            session, VERSIONS, version, schemas.VersionInput(product_id=product.id)
        )
        assert same.product_id == product.id


class TestDefaultStatus:
    async def test_the_first_status_of_a_type_is_its_default(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New", "Open")
        task = await ticket_type(session, "Task", "Todo")
        assert await defaults(session) == {bug.id: "New", task.id: "Todo"}

    async def test_a_new_default_replaces_the_old_one_of_its_type_only(
        self, session: AsyncSession
    ) -> None:
        bug = await ticket_type(session, "Bug", "New", "Open")
        task = await ticket_type(session, "Task", "Todo")
        open_ = await status(session, bug.id or 0, "Open")
        await update_item(
            session, TICKET_STATUSES, open_, schemas.TicketStatusInput(is_default=True)
        )
        assert await defaults(session) == {bug.id: "Open", task.id: "Todo"}

    async def test_the_default_cannot_be_unset_directly(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New")
        new = await status(session, bug.id or 0, "New")
        with pytest.raises(Conflict, match="Each ticket type keeps one default status"):
            await update_item(
                session, TICKET_STATUSES, new, schemas.TicketStatusInput(is_default=False)
            )

    async def test_a_status_in_use_cannot_move_to_another_type(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New")
        task = await ticket_type(session, "Task", "Todo")
        await new_ticket(session)
        new = await status(session, bug.id or 0, "New")
        with pytest.raises(Conflict, match="cannot move to another ticket type"):
            await update_item(
                session, TICKET_STATUSES, new, schemas.TicketStatusInput(ticket_type_id=task.id)
            )


class TestDelete:
    async def test_a_type_in_use_is_refused_with_the_count(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New")
        for _ in range(2):
            await new_ticket(session)
        with pytest.raises(Conflict) as refused:
            await delete_item(session, TICKET_TYPES, bug)
        assert refused.value.message == (
            f"TicketType {bug.id} is still used: 2 ticket(s) refer to it."
        )

    async def test_a_free_type_goes_with_its_statuses(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New", "Open")
        await delete_item(session, TICKET_TYPES, bug)
        assert (await count(session, TicketType), await count(session, TicketStatus)) == (0, 0)

    async def test_the_default_status_goes_last(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New", "Open")
        new = await status(session, bug.id or 0, "New")
        with pytest.raises(Conflict) as refused:
            await delete_item(session, TICKET_STATUSES, new)
        assert refused.value.message == (
            f"TicketStatus {new.id} is still used: it is its type's default status; "
            "make another one the default first."
        )
        await delete_item(session, TICKET_STATUSES, await status(session, bug.id or 0, "Open"))
        await delete_item(session, TICKET_STATUSES, new)
        assert await count(session, TicketStatus) == 0

    async def test_a_status_of_tickets_is_refused(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug", "New", "Open")
        await new_ticket(session, status="Open")
        open_ = await status(session, bug.id or 0, "Open")
        with pytest.raises(Conflict, match="1 ticket\\(s\\) have this status"):
            await delete_item(session, TICKET_STATUSES, open_)

    async def test_a_product_goes_with_its_versions_unless_tickets_use_it(
        self, session: AsyncSession
    ) -> None:
        await ticket_type(session, "Bug", "New")
        used = await create_item(session, PRODUCTS, schemas.ProductInput(name="Used"))
        free = await create_item(session, PRODUCTS, schemas.ProductInput(name="Free"))
        for product in (used, free):
            await create_item(
                session,
                VERSIONS,
                schemas.VersionInput(version_number="1"),
                fixed={"product_id": product.id},
            )
        await new_ticket(session, product_id=used.id)
        with pytest.raises(Conflict, match="1 ticket\\(s\\) refer to it"):
            await delete_item(session, PRODUCTS, used)
        await delete_item(session, PRODUCTS, free)
        assert (await count(session, Product), await count(session, Version)) == (1, 1)

    async def test_a_custom_field_with_values_is_refused(self, session: AsyncSession) -> None:
        await ticket_type(session, "Bug", "New")
        field = await create_item(
            session, CUSTOM_FIELDS, schemas.CustomFieldInput(name="N", field_type="Text")
        )
        await new_ticket(session, {field.id: "v"})
        with pytest.raises(Conflict, match="1 ticket\\(s\\) have a value for it"):
            await delete_item(session, CUSTOM_FIELDS, field)

    async def test_an_action_type_of_actions_is_refused(self, session: AsyncSession) -> None:
        await ticket_type(session, "Bug", "New")
        comment = await create_item(session, ACTION_TYPES, schemas.ActionTypeInput(name="Comment"))
        ticket = await new_ticket(session)
        session.add(Action(ticket_id=ticket.id or 0, action_type_id=comment.id, description="x"))
        await session.flush()
        with pytest.raises(Conflict) as refused:
            await delete_item(session, ACTION_TYPES, comment)
        assert refused.value.message == (
            f"ActionType {comment.id} is still used: actions have this type."
        )

    async def test_an_action_type_a_jira_instance_pushes_is_refused_with_the_reason(
        self, session: AsyncSession, published: list[DomainEvent]
    ) -> None:
        comment = await create_item(session, ACTION_TYPES, schemas.ActionTypeInput(name="Comment"))
        default = await default_instance(session)
        default.action_type_to_push_id = comment.id
        await session.flush()
        with pytest.raises(Conflict) as refused:
            await delete_item(session, ACTION_TYPES, comment)
        assert refused.value.message == (
            f"ActionType {comment.id} is still used: a Jira instance pushes this action type."
        )
        assert await count(session, ActionType) == 1
        assert published == []  # publishing stopped at the refusal

    async def test_a_free_action_type_is_announced_then_deleted(
        self, session: AsyncSession, published: list[DomainEvent]
    ) -> None:
        note = await create_item(session, ACTION_TYPES, schemas.ActionTypeInput(name="Note"))
        await delete_item(session, ACTION_TYPES, note)
        assert published == [ActionTypeDeleteRequested(note.id or 0)]
        assert await count(session, ActionType) == 0


async def pick_list_field(session: AsyncSession) -> CustomField:
    """A PickList field S with the one value a."""
    field: CustomField = await create_item(
        session,
        CUSTOM_FIELDS,
        schemas.CustomFieldInput(name="S", field_type="PickList", pick_list_values=["a"]),
    )
    return field


class TestCustomFields:
    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"name": "Status", "field_type": "Text"}, "'Status' is a built-in ticket element"),
            ({"name": "jirakey", "field_type": "Text"}, "'jirakey' is a built-in ticket element"),
            ({"name": "S", "field_type": "PickList"}, "needs at least one value"),
            ({"name": "S", "field_type": "Text", "pick_list_values": ["a"]}, "only PickList"),
        ],
    )
    async def test_invalid_definitions(
        self, session: AsyncSession, data: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(BadRequest, match=message):
            await create_item(session, CUSTOM_FIELDS, schemas.CustomFieldInput(**data))

    async def test_the_type_of_a_field_with_values_is_fixed(self, session: AsyncSession) -> None:
        await ticket_type(session, "Bug", "New")
        used = await create_item(
            session, CUSTOM_FIELDS, schemas.CustomFieldInput(name="N", field_type="Text")
        )
        free = await create_item(
            session, CUSTOM_FIELDS, schemas.CustomFieldInput(name="M", field_type="Text")
        )
        await new_ticket(session, {used.id: "v"})
        with pytest.raises(Conflict, match="cannot change"):
            await update_item(
                session, CUSTOM_FIELDS, used, schemas.CustomFieldInput(field_type="Date")
            )
        changed = await update_item(
            session,
            CUSTOM_FIELDS,
            free,
            schemas.CustomFieldInput(field_type="PickList", pick_list_values=[" a ", "b"]),
        )
        assert (changed.field_type, changed.pick_list_values) == ("PickList", ["a", "b"])

    async def test_a_pick_list_field_keeps_its_values_unless_given(
        self, session: AsyncSession
    ) -> None:
        field = await pick_list_field(session)
        renamed = await update_item(
            session, CUSTOM_FIELDS, field, schemas.CustomFieldInput(name="T")
        )
        assert (renamed.name, renamed.pick_list_values) == ("T", ["a"])
        assert await count(session, CustomField) == 1

    async def test_a_field_that_is_no_longer_a_pick_list_drops_its_values(
        self, session: AsyncSession
    ) -> None:
        field = await pick_list_field(session)
        changed = await update_item(
            session, CUSTOM_FIELDS, field, schemas.CustomFieldInput(field_type="Date")
        )
        assert (changed.field_type, changed.pick_list_values) == ("Date", [])

    async def test_a_field_made_a_pick_list_without_values_conflicts(
        self, session: AsyncSession
    ) -> None:
        field = await create_item(
            session, CUSTOM_FIELDS, schemas.CustomFieldInput(name="S", field_type="Text")
        )
        with pytest.raises(Conflict, match="needs at least one value.*has none yet"):
            await update_item(
                session, CUSTOM_FIELDS, field, schemas.CustomFieldInput(field_type="PickList")
            )
        assert field.field_type == "Text"
        with pytest.raises(Conflict, match="only PickList fields.*this field is a Text field"):
            await update_item(
                session, CUSTOM_FIELDS, field, schemas.CustomFieldInput(pick_list_values=["a"])
            )


class TestLookups:
    @pytest.mark.parametrize("ident", [0, -5, MAX_ID + 1, 999])
    async def test_a_missing_or_impossible_id_is_404_by_path_and_400_by_reference(
        self, session: AsyncSession, ident: int
    ) -> None:
        with pytest.raises(NotFound, match=f"TicketType {ident} does not exist."):
            await get_or_404(session, TicketType, ident, "TicketType")
        with pytest.raises(BadRequest, match=f"TicketTypeID {ident} does not exist."):
            await get_referenced(session, TicketType, ident, "TicketTypeID")

    async def test_an_existing_one_is_found_both_ways(self, session: AsyncSession) -> None:
        bug = await ticket_type(session, "Bug")
        assert await get_or_404(session, TicketType, bug.id or 0, "TicketType") is bug
        assert await get_referenced(session, TicketType, bug.id or 0, "TicketTypeID") is bug
