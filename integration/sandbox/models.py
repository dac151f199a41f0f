# The Fulfil sandbox's own tables are built by the Fulfil issue (#3).
