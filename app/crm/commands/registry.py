"""The commands of the CRM API by name: each takes the call's parameters and answers a JSON
object."""

from __future__ import annotations

from app.crm.commands import companies, contacts, dictionaries, entities, jira
from app.crm.commands.context import COMPANY, CONTACT, Handler, edit_named, get_named


def command_key(name: str) -> str:
    return name.strip().lower()


COMMANDS: dict[str, Handler] = {
    "getcompanybyname": get_named(COMPANY),
    "getcontactbyname": get_named(CONTACT),
    "getcompanies": companies.get_companies,
    "getcontacts": contacts.get_contacts,
    "getcontactemail": contacts.get_contact_email,
    "addcompany": companies.add_company,
    "addcontact": contacts.add_contact,
    "setcontact": contacts.set_contact,
    "editcontact": edit_named(CONTACT),
    "editcompany": edit_named(COMPANY),
    "deletecompany": companies.delete_company,
    "adddictionaryvalue": dictionaries.add_dictionary_value,
    "removedictionaryvalue": dictionaries.remove_dictionary_value,
    "searchentities": entities.search_entities,
    "updateorcreateentity": entities.update_or_create_entity,
    "transactionslist": entities.transactions_list,
    "setcrmproperties": jira.set_crm_properties,
}
