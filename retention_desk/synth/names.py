"""Norwegian names, streets and places for the synthetic subscribers (common names, invented combinations)."""

from __future__ import annotations

# fmt: off
FIRST_NAMES_FEMALE = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Hilde", "Anna",
    "Solveig", "Marianne", "Randi", "Ida", "Nina", "Maria", "Elisabeth", "Kristin", "Silje", "Hanne", "Camilla",
    "Nora", "Emma", "Sara", "Thea", "Ingeborg", "Sofie", "Maja", "Tone", "Heidi", "Mari", "Guro", "Ragnhild",
    "Synnøve", "Åse", "Grete", "Line", "Julie", "Emilie", "Vilde", "Frida", "Sigrid", "Tuva", "Oda",
)
FIRST_NAMES_MALE = (
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Hans", "Geir", "Thomas",
    "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "John", "Anders", "Rune", "Trond", "Jonas",
    "Magnus", "Henrik", "Kristian", "Eirik", "Sindre", "Håkon", "Sander", "Emil", "Jakob", "Filip", "Noah",
    "Øyvind", "Espen", "Gunnar", "Stian", "Vegard", "Aksel", "Olav", "Sverre", "Tobias", "Mathias", "Ivar",
)
LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
    "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen", "Andreassen",
    "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen", "Moen",
    "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen",
    "Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde",
    "Solheim", "Berge", "Moe", "Nygård", "Bakke", "Kristensen", "Fredriksen", "Holm", "Lien", "Hauge",
    "Christensen", "Andresen", "Nielsen", "Knudsen", "Evensen", "Sæther", "Aas", "Myhre", "Hanssen",
    "Ahmed", "Haugland", "Thomassen", "Sivertsen", "Simonsen", "Danielsen", "Berntsen", "Sandvik", "Rønning",
)
STREETS = (
    "Storgata", "Kirkegata", "Skolevegen", "Parkveien", "Industrivegen", "Granveien", "Bjørkeveien",
    "Furuveien", "Sjøgata", "Fjellveien", "Solbakken", "Stasjonsveien", "Nedre Langgate", "Strandveien",
    "Eikeveien", "Lyngveien", "Kongens gate", "Dronningens gate", "Bekkeveien", "Tunveien", "Løkkeveien",
    "Haugeveien", "Bakkegata", "Torget", "Havnegata", "Markveien", "Elveveien", "Åsveien", "Lindeveien",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# (fylke, share of subscribers, fibre competitor pressure 0..1, [(postcode prefix, city), ...])
REGIONS = (
    ("Oslo", 0.135, 0.85, (("01", "Oslo"), ("04", "Oslo"), ("06", "Oslo"))),
    ("Akershus", 0.135, 0.70, (("13", "Bærum"), ("20", "Lillestrøm"), ("14", "Ski"), ("21", "Jessheim"))),
    ("Vestland", 0.12, 0.55, (("50", "Bergen"), ("53", "Askøy"), ("68", "Førde"), ("54", "Stord"))),
    ("Rogaland", 0.09, 0.60, (("40", "Stavanger"), ("43", "Sandnes"), ("55", "Haugesund"))),
    ("Trøndelag", 0.09, 0.50, (("70", "Trondheim"), ("76", "Stjørdal"), ("77", "Steinkjer"))),
    ("Innlandet", 0.07, 0.25, (("23", "Hamar"), ("26", "Lillehammer"), ("28", "Gjøvik"))),
    ("Agder", 0.06, 0.35, (("46", "Kristiansand"), ("48", "Arendal"), ("45", "Mandal"))),
    ("Østfold", 0.055, 0.45, (("16", "Fredrikstad"), ("17", "Sarpsborg"), ("15", "Moss"))),
    ("Buskerud", 0.05, 0.40, (("30", "Drammen"), ("36", "Kongsberg"), ("35", "Hønefoss"))),
    ("Vestfold", 0.045, 0.45, (("31", "Tønsberg"), ("32", "Sandefjord"), ("32", "Larvik"))),
    ("Møre og Romsdal", 0.05, 0.30, (("60", "Ålesund"), ("64", "Molde"), ("65", "Kristiansund"))),
    ("Nordland", 0.045, 0.20, (("80", "Bodø"), ("85", "Narvik"), ("86", "Mo i Rana"))),
    ("Telemark", 0.03, 0.30, (("37", "Skien"), ("39", "Porsgrunn"), ("38", "Bø i Telemark"))),
    ("Troms", 0.03, 0.15, (("90", "Tromsø"), ("94", "Harstad"), ("93", "Finnsnes"))),
    ("Finnmark", 0.015, 0.10, (("95", "Alta"), ("96", "Hammerfest"), ("99", "Kirkenes"))),
)
# fmt: on
