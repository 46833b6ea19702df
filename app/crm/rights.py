"""CRM rights: the names a user is granted and the right each command needs (pure)."""

from __future__ import annotations

from app.crm.naming import normalized

MAIN_MENU = "CRM Main Menu"
ADD_COMPANIES = "Add companies"
ADD_CONTACTS = "Add contacts"
SET_CONTACT = "Add exising contact to company"
ADD_DICTIONARY_VALUES = "Add the values to dictionaries"
REMOVE_DICTIONARY_VALUES = "Remove the values from dictionaries"
SEARCH = "Search CRM objects"
EDIT_CONTACTS = "Edit contacts"
EDIT_COMPANIES = "Edit companies"
ADD_EDIT_OBJECTS = "Add / Edit Objects"

ALL_RIGHTS = (
    MAIN_MENU,
    ADD_COMPANIES,
    ADD_CONTACTS,
    SET_CONTACT,
    ADD_DICTIONARY_VALUES,
    REMOVE_DICTIONARY_VALUES,
    SEARCH,
    EDIT_CONTACTS,
    EDIT_COMPANIES,
    ADD_EDIT_OBJECTS,
)

# Other spellings found in CRM for Jira's own documentation.
_ALIASES = {
    "add contact": ADD_CONTACTS,
    "add existing contact to company": SET_CONTACT,
    "search crm objects by parameters": SEARCH,
    "search crm transactions": SEARCH,
    "add/edit objects": ADD_EDIT_OBJECTS,
}
_BY_KEY = {normalized(name): name for name in ALL_RIGHTS} | _ALIASES

COMMAND_RIGHTS: dict[str, str] = {
    "getcompanybyname": MAIN_MENU,
    "getcontactbyname": MAIN_MENU,
    "getcompanies": MAIN_MENU,
    "getcontacts": MAIN_MENU,
    "getcontactemail": MAIN_MENU,
    "sync": MAIN_MENU,
    "setcrmproperties": MAIN_MENU,
    "addcompany": ADD_COMPANIES,
    "addcontact": ADD_CONTACTS,
    "setcontact": SET_CONTACT,
    "adddictionaryvalue": ADD_DICTIONARY_VALUES,
    "removedictionaryvalue": REMOVE_DICTIONARY_VALUES,
    "searchentities": SEARCH,
    "transactionslist": SEARCH,
    "editcontact": EDIT_CONTACTS,
    "editcompany": EDIT_COMPANIES,
    "deletecompany": EDIT_COMPANIES,
    "updateorcreateentity": ADD_EDIT_OBJECTS,
}


def canonical_right(name: str) -> str | None:
    """The right's canonical name, or None when `name` is no right."""
    return _BY_KEY.get(normalized(name))


def may_run(command: str, rights: list[str]) -> bool:
    needed = COMMAND_RIGHTS[command]
    return any(canonical_right(granted) == needed for granted in rights)
