"""German first and last names for demo accounts (a mix that fits a Ruhr city)."""

# fmt: off
FIRST_NAMES = [
    "Anna", "Lena", "Julia", "Sarah", "Laura", "Katharina", "Sandra", "Nicole", "Stefanie", "Melanie",
    "Christina", "Jana", "Lisa", "Miriam", "Sabine", "Petra", "Claudia", "Monika", "Ayşe", "Elif",
    "Fatma", "Zeynep", "Agnieszka", "Natalia", "Olga", "Svetlana", "Leonie", "Hannah", "Nadine", "Tanja",
    "Thomas", "Michael", "Andreas", "Stefan", "Christian", "Markus", "Frank", "Jürgen", "Uwe", "Dirk",
    "Sven", "Tobias", "Daniel", "Jan", "Lukas", "Jonas", "Tim", "Florian", "Sebastian", "Matthias",
    "Kevin", "Dennis", "Marcel", "Patrick", "Mehmet", "Murat", "Emre", "Can", "Piotr", "Tomasz",
    "Dariusz", "Dimitrios", "Nikolaos", "Marco", "Luca", "Ahmad", "Yusuf", "Björn", "Jörg", "Ralf",
]

LAST_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
    "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
    "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
    "Kowalski", "Nowak", "Wiśniewski", "Kamiński", "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk",
    "Aydın", "Arslan", "Papadopoulos", "Rossi", "Brinkmann", "Westermann", "Sommer", "Kemper", "Kortmann",
    "Hülsmann", "Tenhagen", "Overbeck", "Wessel", "Stratmann",
]
# fmt: on
