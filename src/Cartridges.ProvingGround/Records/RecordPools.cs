// The value lists documents draw from. Every entry is one word (one token in the records vocabulary), so a
// question's key and its answer are single tokens, the setting in which small attention models learn recall.
namespace Cartridges.ProvingGround.Records;

/// <summary>Names, diagnoses, drugs, labs and calendar words used by the records generator.</summary>
public static class RecordPools
{
    /// <summary>Patients' first names (unique within a document while the document has fewer records than names).</summary>
    public static readonly IReadOnlyList<string> FirstNames =
    [
        "Anna", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars",
        "Maya", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Stefan", "Tara", "Ugo", "Vera", "Walter", "Xenia",
        "Yusuf", "Zora", "Amir", "Beatriz", "Carlos", "Dalia", "Emil", "Fatima", "Gustav", "Hana", "Ivan", "Julia",
        "Karim", "Lena", "Marco", "Nadia", "Oscar", "Petra", "Rafael", "Sofia", "Tomas", "Ulla", "Viktor", "Wanda",
        "Yara", "Zeno", "Adele", "Boris", "Celia", "Diego", "Edith", "Felix", "Gloria", "Henrik", "Ida", "Jakob",
        "Klaus", "Leila", "Mateo", "Nora", "Otto", "Paula", "Ruben", "Selma", "Theo", "Ursula", "Vincent", "Wilma",
        "Aron", "Bianca", "Cyril", "Dora", "Ernesto", "Flora", "Gideon", "Helga", "Igor", "Jana", "Kaspar", "Lidia",
        "Milan", "Nina", "Orla", "Pedro", "Rita", "Samuel", "Tilda", "Umar", "Valentina", "Wim", "Yasmin", "Zoltan",
        "Alma", "Bodo", "Carmen", "Dario", "Esther", "Fabian", "Gemma", "Hector", "Irina", "Joel", "Katja", "Leon",
        "Mira", "Noah", "Olivia", "Piet", "Ronja", "Silas", "Tanja", "Ulrich", "Vilma", "Wendel", "Yvonne", "Zaid",
    ];

    /// <summary>Patients' surnames.</summary>
    public static readonly IReadOnlyList<string> Surnames =
    [
        "Kowalski", "Brandt", "Moreau", "Ivanova", "Haddad", "Lindqvist", "Okafor", "Rossi", "Novak", "Dubois",
        "Schmidt", "Petrov", "Silva", "Jansen", "Costa", "Horvat", "Nakamura", "Fischer", "Romano", "Kaya",
        "Berg", "Marin", "Tanaka", "Wagner", "Ferreira", "Popescu", "Larsen", "Moretti", "Yilmaz", "Keller",
        "Santos", "Kovac", "Weber", "Bianchi", "Nilsen", "Lopez", "Becker", "Ricci", "Sorensen", "Hoffmann",
        "Mendes", "Varga", "Richter", "Greco", "Holm", "Ortega", "Vogel", "Conti", "Lund", "Navarro",
        "Krause", "Gallo", "Dahl", "Castro", "Wolf", "Esposito", "Strand", "Ramos", "Zimmer", "Marino",
        "Eriksen", "Vidal", "Hartmann", "Lombardi", "Nyberg", "Serrano", "Lang", "Barbieri", "Aalto", "Molina",
        "Kraus", "Fontana", "Virtanen", "Delgado", "Brenner", "Caruso", "Koskinen", "Medina", "Pohl", "Rinaldi",
        "Laine", "Herrera", "Frank", "Villa", "Salo", "Cortes", "Kuhn", "Pellegrini", "Heikkinen", "Rojas",
        "Sauer", "Gentile", "Niemi", "Campos", "Winter", "Ferrari", "Lehto", "Guerrero", "Albrecht", "Testa",
        "Sommer", "Leone", "Kallio", "Vega", "Roth", "Morelli", "Ahonen", "Soto", "Busch", "Sartori",
        "Falk", "Benedetti", "Mattila", "Pacheco", "Haas", "Riva", "Karlsson", "Fuentes", "Engel", "Rizzo",
    ];

    /// <summary>Physicians' surnames (disjoint from patients' so "Dr X" never names a patient).</summary>
    public static readonly IReadOnlyList<string> Physicians =
    [
        "Abbott", "Barlow", "Chandra", "Dawson", "Ellery", "Forde", "Garvey", "Hollis", "Ingram", "Jarvis",
        "Kendall", "Lockwood", "Mercer", "Nolan", "Osborne", "Prescott", "Quayle", "Radley", "Sinclair", "Thorne",
        "Underhill", "Vance", "Whitlock", "Yardley", "Ashworth", "Blake", "Crane", "Darby", "Emerson", "Fairfax",
        "Gresham", "Hale", "Irving", "Jessop", "Kirby", "Lyle", "Marsh", "Newell", "Oakley", "Pryor",
    ];

    /// <summary>Diagnoses, one word each.</summary>
    public static readonly IReadOnlyList<string> Diagnoses =
    [
        "hypertension", "asthma", "diabetes", "pneumonia", "migraine", "anemia", "gout", "psoriasis", "bronchitis",
        "arthritis", "epilepsy", "hepatitis", "tuberculosis", "sinusitis", "osteoporosis", "hypothyroidism",
        "dermatitis", "gastritis", "pancreatitis", "angina", "lupus", "sepsis", "glaucoma", "cirrhosis", "scoliosis",
        "tendinitis", "colitis", "eczema", "insomnia", "vertigo", "appendicitis", "cellulitis", "endocarditis",
        "meningitis", "nephritis", "pleurisy", "shingles", "tinnitus", "urticaria", "thrombosis",
    ];

    /// <summary>Medications, one word each.</summary>
    public static readonly IReadOnlyList<string> Drugs =
    [
        "metformin", "lisinopril", "amlodipine", "atorvastatin", "omeprazole", "levothyroxine", "salbutamol",
        "ibuprofen", "paracetamol", "amoxicillin", "warfarin", "prednisone", "gabapentin", "sertraline", "insulin",
        "furosemide", "losartan", "simvastatin", "clopidogrel", "doxycycline", "allopurinol", "methotrexate",
        "tramadol", "citalopram", "bisoprolol", "ramipril", "naproxen", "azithromycin", "pantoprazole", "diazepam",
        "carbamazepine", "digoxin", "fluoxetine", "heparin", "isoniazid", "ketoconazole", "lamotrigine", "morphine",
        "nitrofurantoin", "rifampicin",
    ];

    /// <summary>Doses in mg.</summary>
    public static readonly IReadOnlyList<int> Doses = [5, 10, 20, 25, 40, 50, 75, 80, 100, 150, 200, 250, 300, 400, 500, 600, 750, 800, 1000];

    /// <summary>Lab tests: name, unit, and the range values are drawn from (inclusive).</summary>
    public static readonly IReadOnlyList<(string Name, string Unit, int Min, int Max)> Labs =
    [
        ("glucose", "mg/dL", 60, 320), ("sodium", "mmol/L", 120, 160), ("potassium", "mg/L", 100, 220),
        ("cholesterol", "mg/dL", 120, 340), ("hemoglobin", "g/L", 70, 180), ("creatinine", "umol/L", 40, 400),
        ("ferritin", "ng/mL", 10, 500), ("platelets", "per nL", 50, 450),
    ];

    /// <summary>Month names.</summary>
    public static readonly IReadOnlyList<string> Months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>Symptoms used in free-text notes.</summary>
    public static readonly IReadOnlyList<string> Symptoms =
    [
        "fatigue", "dizziness", "nausea", "headaches", "cough", "fever", "chills", "palpitations", "insomnia",
        "rash", "swelling", "numbness", "wheezing", "backache", "thirst", "weakness",
    ];

    /// <summary>Wards a patient can be admitted to.</summary>
    public static readonly IReadOnlyList<string> Wards = ["cardiology", "neurology", "oncology", "pediatrics", "geriatrics", "surgery", "radiology", "urology"];

    /// <summary>Patient numbers are drawn from this range (three digits, one token each).</summary>
    public const int MinPatientNumber = 100, MaxPatientNumber = 999;

    /// <summary>Birth years.</summary>
    public const int MinBirthYear = 1930, MaxBirthYear = 2005;

    /// <summary>Years of prescriptions and visits.</summary>
    public const int MinVisitYear = 2010, MaxVisitYear = 2025;
}
