"""Word lists for synthetic people and places, ordered from most to least frequent.

Frequencies are not copied from any registry: each list is ordered by public knowledge of which names
are common in the country (surname rankings published by civil registries and the press, popular
baby-name lists), and :func:`zipf_weights` turns the order into Zipf-like weights. Lists are tuples
so that the generator's output depends only on this file and the seed.

Keys are ISO country codes (the profile's ``country``); ``DEFAULT`` is used for other countries.
"""

from __future__ import annotations

import numpy as np

DEFAULT = "CL"


def zipf_weights(n: int, exponent: float = 1.0, offset: float = 6.0) -> np.ndarray:
    """Normalised weights ``1 / (rank + offset) ** exponent`` for ``n`` names in frequency order."""
    ranks = np.arange(n, dtype=np.float64)
    w = 1.0 / (ranks + offset) ** exponent
    return w / w.sum()


def _dedupe(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Concatenate name groups keeping the first occurrence of each name (order = frequency rank)."""
    return tuple(dict.fromkeys(name for group in groups for name in group))


# fmt: off
# --- surnames ------------------------------------------------------------------------------------

_HISPANIC_TAIL = (
    "Acosta", "Aguirre", "Alfaro", "Alonso", "Andrade", "Arce", "Arias", "Ávila", "Barrera", "Barrios",
    "Beltrán", "Benítez", "Blanco", "Bustamante", "Caballero", "Cabrera", "Calderón", "Campos", "Cano",
    "Carmona", "Carrillo", "Castañeda", "Cervantes", "Cordero", "Correa", "Cuevas", "Delgado", "Domínguez",
    "Durán", "Escobar", "Esparza", "Estrada", "Fajardo", "Franco", "Galindo", "Gallegos", "Gil", "Guerra",
    "Iglesias", "Lozano", "Luna", "Maldonado", "Marín", "Márquez", "Medina", "Mejía", "Méndez", "Mora",
    "Navarro", "Nieto", "Ochoa", "Olmos", "Osorio", "Padilla", "Palacios", "Pacheco", "Pardo", "Prieto",
    "Quintero", "Rangel", "Rosales", "Rubio", "Salgado", "Santana", "Serrano", "Solís", "Suárez", "Toledo",
    "Trujillo", "Valdez", "Valencia", "Vallejo", "Velasco", "Villalba", "Zamora", "Zapata",
)

_PARTICLE_SURNAMES = (
    "San Martín", "de la Fuente", "del Río", "de la Cruz", "del Valle", "de la Barra", "Santa María",
    "del Campo", "de la Maza", "San Juan", "de los Santos", "del Solar", "Santa Cruz", "de la Vega",
)

SURNAMES: dict[str, tuple[str, ...]] = {
    "CL": _dedupe(
        (
            "González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez",
            "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya", "Flores",
            "Espinoza", "Valenzuela", "Castillo", "Tapia", "Reyes", "Gutiérrez", "Castro", "Pizarro",
            "Álvarez", "Vásquez", "Sánchez", "Fernández", "Ramírez", "Carrasco", "Gómez", "Cortés", "Herrera",
            "Núñez", "Jara", "Vergara", "Rivera", "Figueroa", "Riquelme", "García", "Miranda", "Bravo", "Vera",
            "Molina", "Vega", "Campos", "Sandoval", "Orellana", "Cárdenas", "Olivares", "Alarcón", "Gallardo",
            "Ortiz", "Garrido", "Salazar", "Guzmán", "Henríquez", "Saavedra", "Navarro", "Aguilera", "Parra",
            "Romero", "Aravena", "Vargas", "Vázquez", "Cáceres", "Yáñez", "Leiva", "Escobar", "Ruiz", "Valdés",
            "Vidal", "Salinas", "Zúñiga", "Peña", "Godoy", "Lagos", "Maldonado", "Bustos", "Medina", "Pino",
            "Palma", "Moreno", "Sáez", "Carvajal", "Navarrete", "Sanhueza", "Poblete", "Jiménez", "Hidalgo",
            "Toro", "Acuña", "Mendoza", "Ramos", "Cisternas", "Lara", "Ortega", "Donoso", "Venegas", "Guerrero",
            "Paredes", "Farías", "San Martín", "Gajardo", "Osorio", "Salas", "Cofré", "Ulloa", "Becerra",
            "Alvarado", "Ponce", "Arancibia", "Meza", "Chávez", "Quiroz", "Varas", "Villarroel", "Lillo",
            "Rubio", "Arriagada", "Ibarra", "Mora", "Montecinos", "Jorquera", "Cerda", "Robles", "Cabrera",
            "Marín", "Inostroza", "Opazo", "Valdebenito", "Quezada", "Retamal", "Villalobos", "Rivas", "Concha",
            "Manríquez", "Aguilar", "Bustamante", "Palacios", "Calderón", "Catalán", "Suazo", "Troncoso",
            "Cuevas", "Huerta", "Tobar", "Aguirre", "Pacheco", "Barra", "Gálvez", "Oyarzún", "Valencia",
            "Segovia", "Ojeda", "Mella", "Uribe", "Zamorano", "Órdenes", "Moya", "Vallejos", "Solís",
            "Carrillo", "Rosales", "Bórquez", "Oyarce", "Barría", "Andrade", "Vivanco", "Tello", "Villegas",
            "Pavez", "Gatica", "Sagredo", "Barrientos", "Cárcamo", "Mansilla", "Oyarzo", "Echeverría",
            "Urrutia", "Ibáñez", "Iturra", "Ugarte", "Olave", "Elgueta", "Aránguiz", "Larraín", "Goycolea",
            "Huenchullán", "Millapán", "Painequeo", "Catrileo", "Antileo", "Huaiquimilla", "Llanquileo",
            "Curín", "Nahuelpán", "Ñancupil", "Huenchumilla", "Collío", "Quintremil", "Marileo", "Lienlaf",
            "Caniulef", "Quilodrán", "Melipillán", "Levío", "Huichalaf",
        ),
        _PARTICLE_SURNAMES,
        _HISPANIC_TAIL,
    ),
    "PE": _dedupe(
        (
            "Quispe", "Flores", "Sánchez", "Rodríguez", "García", "Rojas", "Mamani", "Huamán", "Díaz", "Chávez",
            "Ramos", "Torres", "Mendoza", "Vásquez", "Castillo", "López", "Gonzales", "Condori", "Pérez",
            "Ramírez", "Vargas", "Cruz", "Gutiérrez", "Espinoza", "Fernández", "Salazar", "Castro", "Romero",
            "Hernández", "Ruiz", "Córdova", "Huamaní", "Cárdenas", "Álvarez", "Ticona", "Apaza", "Huanca",
            "Choque", "Pari", "Ayala", "Aguilar", "Medina", "Gómez", "Silva", "Morales", "Paredes", "Reyes",
            "Jiménez", "Martínez", "Herrera", "Cabrera", "Ortiz", "Guerrero", "Vega", "Campos", "Benites",
            "Palomino", "Carrasco", "Valdivia", "Zapata", "Delgado", "Tello", "Salas", "Rivera", "Cueva",
            "Arias", "Soto", "Navarro", "Cabello", "León", "Peña", "Villanueva", "Miranda", "Lozano", "Tapia",
            "Ríos", "Contreras", "Guevara", "Calderón", "Ccallo", "Layme", "Coaquira", "Limachi", "Churata",
            "Tito", "Inga", "Cahuana", "Poma", "Yauri", "Huayta", "Mallma", "Soncco", "Cutipa", "Vilca",
            "Llanos", "Lázaro", "Inca", "Pacheco", "Sulca", "Asto", "Guillén", "Bautista", "Acosta",
            "Chumpitaz", "Yarlequé", "Ancajima", "Chunga", "Nizama", "Saavedra", "Meléndez", "Valverde", "Alva",
            "Julca", "Cotrina", "Vílchez", "Coronado", "Olivera", "Carhuas", "Rosales", "Cusi", "Yupanqui",
            "Ccori", "Ccahuana", "Huillca", "Ccama", "Machaca", "Luque", "Chura", "Nina", "Ccapa", "Paucar",
            "Taipe", "Huarcaya", "Gamarra", "Zevallos", "Bustamante", "Villegas", "Castañeda", "Muñoz",
            "Montes", "Orihuela", "Pinedo", "Panduro", "Shapiama", "Tuesta", "Sangama", "Arévalo", "Lozada",
            "Pizarro", "Quiroz", "Sandoval", "Cortez", "Ore", "Huaraca", "Ochoa", "Escobar", "Luna",
        ),
        ("de la Cruz", "del Castillo", "de los Santos", "Santa Cruz", "del Águila", "de la Torre"),
        _HISPANIC_TAIL,
    ),
    "SV": _dedupe(
        (
            "Hernández", "López", "Martínez", "Rivera", "Flores", "Ramírez", "García", "Rodríguez", "Cruz",
            "Mejía", "Pérez", "González", "Sánchez", "Guardado", "Portillo", "Alvarado", "Romero", "Aguilar",
            "Orellana", "Vásquez", "Reyes", "Gómez", "Castillo", "Ramos", "Méndez", "Díaz", "Chávez",
            "Morales", "Torres", "Ayala", "Ventura", "Argueta", "Menjívar", "Escobar", "Molina", "Guzmán",
            "Alfaro", "Cortez", "Rosales", "Mendoza", "Henríquez", "Lemus", "Recinos", "Landaverde", "Guevara",
            "Quintanilla", "Barrera", "Fuentes", "Bonilla", "Serrano", "Velásquez", "Villalta", "Deras",
            "Chicas", "Amaya", "Melgar", "Galdámez", "Zelaya", "Carranza", "Monterrosa", "Majano", "Beltrán",
            "Canales", "Calderón", "Jovel", "Zepeda", "Osorio", "Rivas", "Campos", "Castro", "Cerén",
            "Palacios", "Pineda", "Marroquín", "Ascencio", "Abarca", "Tobar", "Sorto", "Ortiz", "Interiano",
            "Avalos", "Granados", "Solórzano", "Aparicio", "Arévalo", "Villatoro", "Umaña", "Funes", "Mancía",
            "Herrera", "Navarrete", "Alas", "Vides", "Rauda", "Barahona", "Ardón", "Orantes", "Salinas", "Paz",
            "Valle", "Merino", "Lara", "Carballo", "Batres", "Polanco", "Estrada", "Vanegas", "Miranda",
            "Elías", "Nieto", "Tejada", "Durán", "Contreras", "Moreno", "Cañas", "Arias", "Coto", "Quijada",
            "Segovia", "Turcios", "Olmedo", "Guandique", "Alemán", "Bermúdez", "Claros", "Erazo", "Figueroa",
            "Garay", "Hércules", "Iraheta", "Juárez", "Lovo", "Machado", "Novoa", "Ochoa", "Peraza",
            "Quinteros", "Rubio", "Santos", "Trejo", "Urquilla", "Valladares", "Ábrego", "Aquino", "Benítez",
            "Cabrera", "Domínguez", "Escalante", "Fabián", "Guerrero", "Hidalgo", "Leiva", "Maldonado",
        ),
        ("de la O", "de Paz", "del Cid", "de León", "de la Cruz", "de Jesús"),
        _HISPANIC_TAIL,
    ),
}

# --- given names -----------------------------------------------------------------------------------
# Per generation: ``child`` (born in the last 8 years), ``adult`` (parents), ``elder`` (grandmothers).
# Entries with a space are compound first names ("María José"), registered without a second name.

GIVEN: dict[str, dict[str, tuple[str, ...]]] = {
    "CL": {
        "child_F": (
            "Sofía", "Isidora", "Emilia", "Agustina", "Florencia", "Josefa", "Trinidad", "Antonella", "Emma",
            "Julieta", "Maite", "Martina", "Amanda", "Catalina", "Valentina", "Mía", "Antonia", "María José",
            "Renata", "Fernanda", "Colomba", "Isabella", "Aurora", "Olivia", "Laura", "Ignacia", "Constanza",
            "Javiera", "Rafaela", "Amparo", "Francisca", "Elisa", "Magdalena", "Victoria", "Matilda",
            "María Jesús", "Alma", "Belén", "Gabriela", "Daniela", "Monserrat", "Leonor", "Maira", "Abigail",
            "Luciana", "Alondra", "Dominga", "María Ignacia", "María Paz", "Pascuala",
        ),
        "child_M": (
            "Agustín", "Mateo", "Benjamín", "Vicente", "Martín", "Tomás", "Maximiliano", "Joaquín", "Lucas",
            "Santiago", "Gaspar", "Julián", "Facundo", "Matías", "Alonso", "León", "Liam", "Emilio", "Bastián",
            "Cristóbal", "Juan Pablo", "Felipe", "Diego", "Sebastián", "Gabriel", "Ignacio", "Nicolás",
            "Francisco", "Clemente", "José Tomás", "Amaro", "Luciano", "Simón", "Damián", "Máximo", "Dante",
            "Renato", "Thiago", "Jeremías", "Ian", "Álvaro", "Franco", "Bruno", "Pedro", "Juan José",
            "José Ignacio", "Gonzalo", "Javier", "Fernando", "Juan Ignacio",
        ),
        "adult_F": (
            "Camila", "Javiera", "Valentina", "Francisca", "Constanza", "Catalina", "Daniela", "María José",
            "Fernanda", "Carolina", "Paula", "Nicole", "Bárbara", "Karina", "Macarena", "Paulina", "Claudia",
            "Natalia", "Katherine", "Romina", "Tamara", "Yasna", "Marcela", "Andrea", "Alejandra", "Jessica",
            "Pamela", "Carla", "María Paz", "Gabriela", "Valeria", "Lorena", "Vanessa", "Priscila", "Cristina",
            "Patricia", "Solange", "Scarlett", "Yesenia", "Marisol", "Evelyn", "Angélica", "Viviana", "Paola",
            "Jocelyn", "María Fernanda", "Melissa", "Nataly", "María Ignacia", "Ana María", "María Jesús",
        ),
        "adult_M": (
            "Sebastián", "Felipe", "Cristián", "Rodrigo", "Francisco", "Nicolás", "Diego", "Matías", "Jorge",
            "Luis", "Juan Pablo", "Carlos", "Patricio", "Víctor", "Claudio", "Gonzalo", "Ignacio", "Pablo",
            "Andrés", "Manuel", "Mauricio", "Alejandro", "Daniel", "Héctor", "Juan Carlos", "Marcelo",
            "Álvaro", "Fabián", "Javier", "Esteban", "Eduardo", "Hugo", "José Luis", "Raúl", "Jaime",
            "Leonardo", "Miguel", "Roberto", "Ricardo", "Bastián", "Camilo", "Cristopher", "Juan José",
            "Brian", "Kevin", "Jonathan", "Alexis", "José Miguel", "Marco", "Sergio", "Fernando",
        ),
        "elder_F": (
            "María", "Rosa", "Juana", "Ana María", "Carmen", "Patricia", "Ximena", "Gloria", "Marta",
            "Margarita", "Sonia", "Elena", "Luisa", "Teresa", "Verónica", "Silvia", "Mónica", "Isabel",
            "María Angélica", "Jacqueline", "Eliana", "Norma", "Olga", "Ana", "Luz", "Nancy", "Cecilia", "Irma",
            "Graciela", "Inés", "Mercedes", "Rosa María", "María Teresa", "María Cristina", "Lidia", "Gladys",
            "Nelly", "Hilda", "Adriana", "Beatriz", "Berta", "Blanca", "Yolanda",
        ),
    },
    "PE": {
        "child_F": (
            "Valentina", "Luciana", "Camila", "Alessia", "Ariana", "Mía", "Kiara", "Nicole", "Fernanda",
            "Ximena", "Antonella", "Zoe", "Danna", "Isabella", "Abigail", "Sofía", "Génesis", "María Fernanda",
            "Briana", "Rafaela", "Emma", "Aitana", "Milagros", "Mariana", "Dayana", "Luana", "Valeria",
            "Ashley", "Naomi", "Keyla", "Alexandra", "Ángela", "Allison", "Ana Lucía", "Arleth", "Melany",
            "Brunella", "Catalina", "Jimena", "Thaís", "Cielo", "María Belén", "Rosa María", "Yamilet",
        ),
        "child_M": (
            "Thiago", "Liam", "Mateo", "Santiago", "Gael", "Dylan", "Sebastián", "Valentino", "Adrián",
            "Fabricio", "Leonardo", "Matías", "Alessandro", "Gabriel", "Jesús", "Ángel", "Joaquín", "Rodrigo",
            "Diego", "Juan Diego", "Daniel", "Luis", "Samuel", "Josué", "Caleb", "Iker", "Benjamín", "Ian",
            "Lucas", "Jeremy", "Kevin", "Franco", "Piero", "Aarón", "Emiliano", "Axel", "Bruno", "Christopher",
            "Jhair", "José Luis", "Luis Ángel", "Jean Pierre", "Juan Carlos", "Eithan",
        ),
        "adult_F": (
            "Rosa", "María", "Luz", "Maribel", "Yesenia", "Milagros", "Karina", "Ruth", "Flor", "Gladys",
            "Elizabeth", "Lourdes", "Roxana", "Diana", "Katherine", "Verónica", "Jessica", "Carmen", "Sandra",
            "Silvia", "Rosa María", "Marleni", "Yolanda", "Nancy", "Lucía", "Erika", "Marisol", "Vanessa",
            "Lizbeth", "Mónica", "María Elena", "Paola", "Patricia", "Liliana", "Rocío", "Nelly", "Sonia",
            "Evelyn", "Luz Marina", "Cinthia", "Judith", "Magaly", "Noemí", "Kelly", "Yeny", "Janet", "Celia",
            "Ana María", "Beatriz", "Esther", "Julia", "Sara", "María Isabel", "Flor de María",
        ),
        "adult_M": (
            "Luis", "José", "Juan", "Carlos", "Jorge", "Juan Carlos", "César", "Miguel", "Víctor", "José Luis",
            "Edwin", "Wilmer", "Jhon", "Freddy", "Percy", "Richard", "Edgar", "Raúl", "Julio", "Pedro", "Alex",
            "Luis Alberto", "Roberto", "Ronald", "Elvis", "Marco", "Manuel", "Fernando", "Hugo", "Walter",
            "Jorge Luis", "Wilson", "Eduardo", "Jesús", "Ángel", "Segundo", "Rubén", "Alberto", "Enrique",
            "Carlos Alberto", "Javier", "David", "Daniel", "Óscar", "Henry", "Franklin", "Nilton", "Ítalo",
            "Renzo", "Juan José", "Miguel Ángel",
        ),
        "elder_F": (
            "María", "Rosa", "Juana", "Julia", "Carmen", "Teresa", "Justina", "Agripina", "Eulogia", "Martha",
            "Victoria", "Francisca", "Lucía", "Margarita", "Rosa María", "Gregoria", "Dionisia", "Hilda",
            "Antonia", "Isabel", "Aurora", "Elena", "Luisa", "Sabina", "Gloria", "Ana María", "Benita",
            "Fortunata", "Celestina", "Paulina", "Norma", "Teófila", "Asunción", "Marcelina",
        ),
    },
    "SV": {
        "child_F": (
            "Sofía", "Camila", "Valentina", "Ashley", "Génesis", "Daniela", "Emily", "Allison", "Abigail",
            "Isabella", "María José", "Fernanda", "Kimberly", "Nicole", "Andrea", "Gabriela", "Alejandra",
            "Melanie", "Hillary", "Dayana", "Paola", "Emely", "Katherine", "Jimena", "Mía", "María Fernanda",
            "Naomi", "Aitana", "Luciana", "Valeria", "Mariana", "Joselyn", "Karla", "Elena", "Rebeca", "Raquel",
            "Ana Sofía", "Dulce María", "María Celeste", "Brithany", "Monserrat", "Abril",
        ),
        "child_M": (
            "Mateo", "Santiago", "Liam", "Gael", "Dylan", "Ángel", "Josué", "Kevin", "Diego", "José", "Daniel",
            "Jonathan", "Cristian", "Alexander", "Christopher", "José Daniel", "Fernando", "Elías", "Isaac",
            "Samuel", "Jesús", "Moisés", "David", "Gabriel", "Emanuel", "Adonay", "Leonel", "Bryan", "Steven",
            "Anderson", "Ezequiel", "Juan Carlos", "Noé", "Joel", "Matías", "Thiago", "Axel", "Eduardo",
            "Caleb", "Luis Fernando", "José Ángel", "Carlos Eduardo", "Josías",
        ),
        "adult_F": (
            "María", "Ana", "Karla", "Claudia", "Sandra", "Verónica", "Roxana", "Yesenia", "Marisol", "Ingrid",
            "Jennifer", "Ana María", "Wendy", "Evelyn", "Iris", "Carolina", "Beatriz", "Patricia", "Silvia",
            "Morena", "Delmy", "Reina", "María José", "Xiomara", "Glenda", "Vilma", "Sonia", "Cecilia", "Brenda",
            "Katya", "Lorena", "Marlene", "Blanca", "Alba", "Maritza", "Yanira", "Rosa Elena", "Dinora", "Elsy",
            "Carmen", "Jessica", "Tatiana", "Zuleyma", "María Elena", "Gloria Esperanza", "Ana Gloria",
            "Reina Isabel",
        ),
        "adult_M": (
            "José", "Juan", "Carlos", "Luis", "Jorge", "Mario", "José Antonio", "Óscar", "Miguel", "Francisco",
            "Manuel", "Julio", "Juan Carlos", "Roberto", "Víctor", "Rafael", "René", "Rigoberto", "Salvador",
            "Ricardo", "José Luis", "Walter", "William", "Edwin", "Nelson", "Wilfredo", "Douglas", "Mauricio",
            "Carlos Alberto", "Rolando", "Melvin", "Edgardo", "Giovanni", "Henry", "Marvin", "Alexander",
            "Luis Alonso", "Daniel", "Kevin", "Élmer", "Santos", "Ernesto", "José Roberto", "Armando", "Fredy",
            "Gustavo", "Jorge Alberto", "Mario Ernesto",
        ),
        "elder_F": (
            "María", "Rosa", "Ana", "Juana", "Carmen", "María Elena", "Rosa Elba", "Marta", "Gloria",
            "Ana Gloria", "Blanca", "Teresa", "Isabel", "Margarita", "Concepción", "Dolores", "Josefa",
            "Reina", "Mercedes", "Santos", "Paula", "María Luisa", "Esperanza", "Rosa Amelia", "Cándida",
            "Gregoria", "Hilda", "Zoila", "Tránsito", "María Julia", "Catalina", "Angélica",
        ),
    },
}

#: Second given names, used when the first name is simple ("Sofía Antonia").
SECOND_GIVEN: dict[str, tuple[str, ...]] = {
    "F": (
        "Antonia", "Ignacia", "Alejandra", "Andrea", "Belén", "Paz", "Fernanda", "Isabel", "Francisca",
        "Constanza", "del Carmen", "Javiera", "Victoria", "Beatriz", "Elena", "Esperanza", "Milagros",
        "Guadalupe", "de los Ángeles", "Soledad", "Valentina", "Sofía", "Lucía", "Rocío", "del Pilar", "Inés",
        "Teresa", "Margarita", "Rosa", "Carolina", "Alexandra", "Abigail", "Josefina", "Emilia", "Monserrat",
        "Elizabeth", "Gabriela", "Natalia", "Estefanía", "Celeste", "Jazmín", "Amparo", "Catalina",
    ),
    "M": (
        "Ignacio", "Andrés", "Alonso", "Antonio", "Alejandro", "José", "Esteban", "Eduardo", "Alberto",
        "Enrique", "Emilio", "Javier", "Francisco", "Manuel", "Vicente", "Tomás", "Benjamín", "Gabriel",
        "Rafael", "Elías", "Arturo", "de Jesús", "Alexander", "Sebastián", "Matías", "Nicolás", "Agustín",
        "Joaquín", "Felipe", "Patricio", "Fernando", "Armando", "Ernesto", "Humberto", "Octavio", "Isaac",
        "Josué", "David", "Leonel", "Mauricio", "Osvaldo", "Renato",
    ),
}

# --- places ------------------------------------------------------------------------------------------

SAINTS_M = (
    "Isidro", "José", "Juan", "Pedro", "Pablo", "Antonio", "Francisco", "Miguel", "Rafael", "Carlos", "Vicente",
    "Martín", "Fernando", "Javier", "Lorenzo", "Sebastián", "Bartolomé", "Agustín", "Andrés", "Felipe",
    "Gabriel", "Ignacio", "Luis", "Marcos", "Mateo", "Nicolás", "Ramón", "Roque", "Esteban", "Cristóbal",
    "Bernardo", "Clemente", "Fabián", "Gregorio", "Jerónimo", "Julián", "Benito", "Blas", "Lucas", "Simón",
    "Alfonso", "Diego", "Hilario", "Joaquín", "Lázaro", "Matías", "Patricio", "Pascual", "Rosendo",
    "Saturnino", "Gil", "Cayetano", "Anselmo",
)
SAINTS_F = (
    "Rosa", "Ana", "Lucía", "Bárbara", "Clara", "Cecilia", "Inés", "Teresa", "Isabel", "Marta", "Rita", "Elena",
    "Catalina", "Mónica", "Eulalia", "Gertrudis", "Juliana", "Margarita", "Mariana", "Paula", "Rosalía",
    "Sofía", "Susana", "Victoria", "Beatriz", "Emilia", "Filomena", "Josefa", "Irene", "Cruz", "Águeda",
)
PLACE_QUALIFIERS = (
    "", "del Valle", "de la Sierra", "del Mar", "de los Andes", "del Monte", "de la Costa", "del Río",
    "de las Flores", "de la Frontera", "del Norte", "del Sur", "de la Vega", "de los Llanos", "de la Cruz",
    "de las Piedras", "del Alto", "de la Laguna", "de los Altos", "de la Montaña", "de Oriente", "del Carmen",
    "de la Paz", "de los Ríos", "de la Loma",
)
#: (noun, gender) used for "Puerto Alegre", "Laguna Verde", "Quebrada Honda".
PLACE_NOUNS = (
    ("Puerto", "m"), ("Río", "m"), ("Cerro", "m"), ("Monte", "m"), ("Paso", "m"), ("Valle", "m"), ("Llano", "m"),
    ("Lago", "m"), ("Portezuelo", "m"), ("Laguna", "f"), ("Bahía", "f"), ("Punta", "f"), ("Quebrada", "f"),
    ("Pampa", "f"), ("Loma", "f"), ("Vega", "f"), ("Cañada", "f"), ("Villa", "f"),
)
PLACE_ADJECTIVES = (
    ("Claro", "Clara"), ("Verde", "Verde"), ("Alegre", "Alegre"), ("Grande", "Grande"), ("Hermoso", "Hermosa"),
    ("Nuevo", "Nueva"), ("Viejo", "Vieja"), ("Seco", "Seca"), ("Hondo", "Honda"), ("Dorado", "Dorada"),
    ("Negro", "Negra"), ("Colorado", "Colorada"), ("Bueno", "Buena"), ("Escondido", "Escondida"),
    ("Largo", "Larga"), ("Blanco", "Blanca"), ("Azul", "Azul"), ("Florido", "Florida"), ("Sereno", "Serena"),
    ("Bonito", "Bonita"), ("Chico", "Chica"), ("Frío", "Fría"), ("Alto", "Alta"), ("Bajo", "Baja"),
    ("Manso", "Mansa"), ("Tranquilo", "Tranquila"), ("Redondo", "Redonda"),
)
#: Nature names with their article, for "Villa Los Aromos" and street names.
NATURE = (
    "Los Aromos", "Las Acacias", "Los Boldos", "Los Quillayes", "Las Violetas", "El Roble", "Los Pinos",
    "Los Peumos", "Las Camelias", "Los Jazmines", "Los Claveles", "Las Golondrinas", "Los Zorzales",
    "Las Gaviotas", "El Sauce", "Los Alerces", "Los Maitenes", "Las Araucarias", "Los Copihues", "Los Olivos",
    "Las Palmeras", "Los Cerezos", "Los Almendros", "Las Magnolias", "Los Tilos", "Los Castaños", "Los Álamos",
    "El Molino", "El Mirador", "La Quebrada", "El Bosque", "Los Robles", "Las Rosas", "Los Lirios",
    "Las Azucenas", "Los Geranios", "Las Dalias", "Los Tulipanes", "Los Girasoles", "El Canelo", "Los Laureles",
    "Los Naranjos", "Los Limoneros", "Las Higueras", "Las Parras", "Los Nogales", "Los Avellanos", "El Arrayán",
    "Los Espinos", "Los Litres", "Las Lomas", "Los Cóndores", "Las Águilas", "Los Halcones", "Las Tórtolas",
    "Los Jilgueros", "Las Loicas", "Las Calandrias", "Los Picaflores", "Las Perdices", "Los Colibríes",
    "El Amanecer", "Las Estrellas", "El Sol", "La Luna", "Las Nubes", "El Arcoíris", "Los Volcanes",
    "Las Cascadas", "Los Esteros", "La Vertiente", "El Manantial", "La Laguna", "Los Prados", "Las Praderas",
    "El Trigal", "Los Maizales", "La Cosecha", "Los Viñedos", "Los Huertos", "La Granja", "Los Molinos",
    "El Puente", "La Estación", "Los Artesanos", "Los Pescadores", "Los Mineros", "Los Alfareros",
    "Los Tejedores", "Los Carpinteros", "La Esperanza", "El Progreso", "La Unión", "Las Mercedes", "El Carmen",
    "Los Jacintos", "Las Orquídeas", "Los Ceibos", "Los Guayacanes", "Las Margaritas",
)
#: Indigenous-sounding syllables per country, combined into fictional names ("Curahue", "Pucamarca").
INDIGENOUS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "CL": (
        ("Cura", "Lonco", "Pitru", "Ñanco", "Quila", "Relmu", "Pillan", "Trapa", "Mañi", "Pelle", "Cude", "Quelen",
         "Lleu", "Huili", "Rayen", "Nahuel"),
        ("hue", "quén", "co", "leufu", "mahuida", "lelfún", "malal", "ruca", "ñir", "lén", "maco"),
    ),
    "PE": (
        ("Huay", "Chaca", "Pampa", "Ccollpa", "Quilla", "Inti", "Sacsa", "Puca", "Yana", "Rumi", "Urcu", "Hatun",
         "Huanca", "Pacha", "Cocha", "Tambo", "Anta", "Chuqui"),
        ("bamba", "marca", "pampa", "cocha", "huasi", "pata", "cancha", "huaylla", "tambo", "caca", "huayco"),
    ),
    "SV": (
        ("Tepe", "Cuyul", "Tona", "Tecu", "Ayu", "Nahui", "Xala", "Cuzca", "Texis", "Ilo", "Chala", "Quezal",
         "Apa", "Coma", "Jiqui", "Tala"),
        ("tepeque", "titán", "huacán", "apa", "tepec", "atán", "cingo", "lupa", "pango", "milco", "huatán"),
    ),
}
#: Region-level names: (noun, gender) x adjective pairs ("Costa Dorada", "Valle Central").
REGION_NOUNS = (
    ("Valle", "m"), ("Costa", "f"), ("Cordillera", "f"), ("Sierra", "f"), ("Altiplano", "m"), ("Pampa", "f"),
    ("Litoral", "m"), ("Llanura", "f"), ("Meseta", "f"), ("Selva", "f"), ("Bahía", "f"), ("Cuenca", "f"),
    ("Ribera", "f"), ("Planicie", "f"), ("Frontera", "f"), ("Península", "f"),
)
REGION_ADJECTIVES = (
    ("Central", "Central"), ("del Norte", "del Norte"), ("del Sur", "del Sur"), ("Oriental", "Oriental"),
    ("Occidental", "Occidental"), ("Alto", "Alta"), ("Bajo", "Baja"), ("Andino", "Andina"),
    ("Austral", "Austral"), ("del Pacífico", "del Pacífico"), ("de los Lagos", "de los Lagos"),
    ("de los Ríos", "de los Ríos"), ("Grande", "Grande"), ("Verde", "Verde"), ("Dorado", "Dorada"),
    ("de las Palmas", "de las Palmas"), ("del Sol", "del Sol"), ("Serrano", "Serrana"), ("Nevado", "Nevada"),
    ("Florido", "Florida"),
)
# fmt: on
