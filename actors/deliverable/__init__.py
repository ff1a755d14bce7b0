"""The deliverable actor: the live state of one issued document while it is generated and after."""
