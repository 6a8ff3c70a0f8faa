"""A CRM deal offers as many contacts as a review can hold decision-makers."""

from dealcoach.coach.bank import load_bank
from dealcoach.services.crm import MAX_CONTACTS


def test_crm_offers_as_many_contacts_as_the_bank_holds_people() -> None:
    assert MAX_CONTACTS == load_bank("en").max_people == load_bank("nl").max_people
