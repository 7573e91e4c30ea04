package synth

import (
	"math/rand/v2"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// town is a place name with its locative, for "w Gębicach".
type town struct{ nom, loc string }

var plTowns = []town{
	{"Gębice", "Gębicach"}, {"Poznań", "Poznaniu"}, {"Łężeczki", "Łężeczkach"}, {"Kraków", "Krakowie"},
	{"Gdańsk", "Gdańsku"}, {"Wrocław", "Wrocławiu"}, {"Łódź", "Łodzi"}, {"Szczecin", "Szczecinie"},
	{"Bydgoszcz", "Bydgoszczy"}, {"Lublin", "Lublinie"}, {"Białystok", "Białymstoku"}, {"Katowice", "Katowicach"},
	{"Gniezno", "Gnieźnie"}, {"Kalisz", "Kaliszu"}, {"Piła", "Pile"}, {"Konin", "Koninie"},
	{"Leszno", "Lesznie"}, {"Śrem", "Śremie"}, {"Września", "Wrześni"}, {"Oborniki", "Obornikach"},
	{"Czarnków", "Czarnkowie"}, {"Chodzież", "Chodzieży"}, {"Złotów", "Złotowie"}, {"Wągrowiec", "Wągrowcu"},
	{"Kościan", "Kościanie"}, {"Środa Wielkopolska", "Środzie Wielkopolskiej"}, {"Żary", "Żarach"},
	{"Świebodzin", "Świebodzinie"}, {"Zielona Góra", "Zielonej Górze"}, {"Toruń", "Toruniu"},
	{"Olsztyn", "Olsztynie"}, {"Rzeszów", "Rzeszowie"}, {"Kielce", "Kielcach"}, {"Opole", "Opolu"},
	{"Płock", "Płocku"}, {"Radom", "Radomiu"}, {"Częstochowa", "Częstochowie"}, {"Tarnów", "Tarnowie"},
	{"Nowy Sącz", "Nowym Sączu"}, {"Zamość", "Zamościu"}, {"Łomża", "Łomży"}, {"Żagań", "Żaganiu"},
	{"Ełk", "Ełku"}, {"Słupsk", "Słupsku"}, {"Świdnica", "Świdnicy"}, {"Głogów", "Głogowie"},
}

var voivodeships = []string{"dolnośląskie", "kujawsko-pomorskie", "lubelskie", "lubuskie", "łódzkie", "małopolskie",
	"mazowieckie", "opolskie", "podkarpackie", "podlaskie", "pomorskie", "śląskie", "świętokrzyskie",
	"warmińsko-mazurskie", "wielkopolskie", "zachodniopomorskie"}

// capitals are the seats of the regional centres, in voivodeship order.
var capitals = []town{{"Wrocław", "Wrocławiu"}, {"Toruń", "Toruniu"}, {"Lublin", "Lublinie"}, {"Zielona Góra", "Zielonej Górze"},
	{"Łódź", "Łodzi"}, {"Kraków", "Krakowie"}, {"Warszawa", "Warszawie"}, {"Opole", "Opolu"}, {"Rzeszów", "Rzeszowie"},
	{"Białystok", "Białymstoku"}, {"Gdańsk", "Gdańsku"}, {"Katowice", "Katowicach"}, {"Kielce", "Kielcach"},
	{"Olsztyn", "Olsztynie"}, {"Poznań", "Poznaniu"}, {"Szczecin", "Szczecinie"}}

type seTown struct{ nom, region string }

var seTowns = []seTown{{"Stockholm", "Stockholms län"}, {"Sundbyberg", "Stockholms län"}, {"Rimbo", "Stockholms län"},
	{"Göteborg", "Västra Götalands län"}, {"Malmö", "Skåne län"}, {"Uppsala", "Uppsala län"}, {"Västerås", "Västmanlands län"},
	{"Örebro", "Örebro län"}, {"Linköping", "Östergötlands län"}, {"Norrköping", "Östergötlands län"},
	{"Jönköping", "Jönköpings län"}, {"Umeå", "Västerbottens län"}, {"Gävle", "Gävleborgs län"}, {"Borås", "Västra Götalands län"},
	{"Södertälje", "Stockholms län"}, {"Växjö", "Kronobergs län"}, {"Luleå", "Norrbottens län"}, {"Östersund", "Jämtlands län"}}

var seWords = []string{"Glöden", "KOS", "Industrihuset", "Gården", "Väven", "Källan", "Bryggan", "Ängen", "Hörnan", "Björken", "Smedjan", "Bageriet"}

var seOrgPatterns = []func(r *rand.Rand, t seTown) string{
	func(r *rand.Rand, t seTown) string { return "Kooperativet " + pick(r, seWords) },
	func(r *rand.Rand, t seTown) string { return t.nom + "s Verkstäder" },
	func(r *rand.Rand, t seTown) string { return "Ateljé " + pick(r, seWords) },
	func(r *rand.Rand, t seTown) string { return t.nom + "s Ekonomiska Förening" },
	func(r *rand.Rand, t seTown) string { return "Coompanion " + t.nom },
}

var ministryNames = []string{"Ministerstwo Rodziny i Polityki Społecznej", "Ministerstwo Pracy i Polityki Społecznej", "Ministerstwo Funduszy i Polityki Regionalnej"}

var publicAgencies = []string{"Powiatowy Urząd Pracy", "Miejski Ośrodek Pomocy Społecznej", "Gminny Ośrodek Pomocy Społecznej", "Powiatowe Centrum Pomocy Rodzinie"}

var associationAims = []string{"Na Rzecz Spółdzielni Socjalnych", "Na Rzecz Osób Niepełnosprawnych", "Przyjaciół Ziemi Wielkopolskiej",
	"Integracji Społecznej", "Aktywni Razem", "Rozwoju Wsi", "Pomocy Osobom z Autyzmem", "Wspierania Aktywności Zawodowej", "Ludzi Życzliwych"}

var foundationNames = []string{"Pomocy Wzajemnej „Barka”", "Ekonomii Społecznej", "Szansa dla Niewidomych", "Wspierania Przedsiębiorczości",
	"Dobrego Startu", "Aktywizacja", "Źródło", "Świętego Łazarza", "Żyj Pełnią"}

var companyStems = []string{"Koni", "Agro", "Bud", "Pol", "Eko", "Trans", "Met", "Drew", "Wiel", "Lech", "Stal", "Żur", "Łuk"}
var companySuffixes = []string{"mex", "pol", "rex", "tech", "plast", "bud", "med", "pak", "gaz"}

var coopNames = []string{"Równe Szanse", "Nowy Start", "Razem", "Pod Dębem", "Zielona Dolina", "Ceramika Gębicka", "Mydlarnia Pod Lipą",
	"Smaki Wielkopolski", "Łączy Nas Pralnia", "Ogród Nadziei", "Słoneczna", "Przystań", "Pracownia Marzeń", "Złota Rączka",
	"Kuźnia", "Wspólna Sprawa", "Dobry Smak", "Czysty Świat", "Żurawinowy Zakątek", "Świetlik"}

var projectTitles = []string{"Innowacyjny model aktywizacji zawodowej uczestników WTZ", "Aktywni na rynku pracy",
	"Ekonomia społeczna w praktyce", "Od warsztatu do spółdzielni", "Razem po zatrudnienie", "Wielkopolska ekonomia społeczna",
	"Spółdzielnia – szansa na pracę", "Partnerstwo dla zatrudnienia"}

var fundings = []string{"Program Operacyjny Kapitał Ludzki", "Europejski Fundusz Społeczny", "PFRON", "budżet województwa", "Fundusze Norweskie"}

var practiceTitles = []string{"Model aktywizacji zawodowej uczestników WTZ poprzez tworzenie spółdzielni socjalnych",
	"Zasady budowania partnerstw z sektorem biznesu", "Model obustronnych korzyści z zaangażowania samorządów",
	"Szkolenia integracyjne dla kadry przyszłych spółdzielni", "Łączenie działalności społecznej z działalnością gospodarczą",
	"Aktywizacja zawodowa i praca chroniona dla osób z chorobami psychicznymi", "Zlecanie usług społecznych spółdzielniom",
	"Klauzule społeczne w zamówieniach publicznych", "Trener pracy w spółdzielni socjalnej"}

var topics = []string{"partnerstwo z biznesem", "samorząd lokalny", "zatrudnienie wspomagane", "WTZ", "spółdzielczość socjalna",
	"zamówienia publiczne", "szkolenia", "zdrowie psychiczne", "współpraca zagraniczna"}

var programmes = []string{"Krajowy Program Przeciwdziałania Ubóstwu i Wykluczeniu Społecznemu 2020",
	"Krajowy Program Rozwoju Ekonomii Społecznej", "Wieloletni Regionalny Plan Działań na Rzecz Ekonomii Społecznej w Wielkopolsce"}

var plFirst = []string{"Małgorzata", "Agnieszka", "Krzysztof", "Łukasz", "Paweł", "Zofia", "Jolanta", "Grzegorz", "Bożena", "Ewa",
	"Michał", "Wojciech", "Jadwiga", "Stanisław", "Natalia", "Malwina", "Magda", "Jarosław", "Żaneta", "Bartłomiej"}
var plLast = []string{"Nowak", "Kowalczyk", "Wójcik", "Kamińska", "Lewandowski", "Zieliński", "Szymańska", "Woźniak", "Dąbrowski",
	"Kozłowska", "Jankowski", "Mazur", "Krawczyk", "Piątek", "Grabowski", "Pawłowska", "Michalski", "Król", "Wieczorek",
	"Jabłoński", "Wróbel", "Stępień", "Górski", "Sikora", "Pokrywka", "Grzech", "Szczepańska", "Wasielewska", "Łuczak", "Żak"}
var seFirst = []string{"Åsa", "Björn", "Märta", "Göran", "Örjan", "Linnéa", "Sören", "Jan", "Ingrid", "Håkan"}
var seLast = []string{"Öberg", "Åström", "Bäckström", "Forslund", "Sjögren", "Lindqvist", "Ekström", "Söderberg", "Håkansson", "Nyström"}

var publicRoles = []string{"Dyrektor", "Prezes Zarządu", "Kierownik", "Wójt", "Burmistrz", "Specjalistka ds. merytorycznych",
	"Przedstawicielka", "Koordynator projektu", "Verksamhetsledare"}

var roman = []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}

var sectorWords = map[kb.Sector]string{kb.SectorPublic: "sektor publiczny", kb.SectorSocial: "sektor społeczny", kb.SectorPrivate: "sektor prywatny"}

var activityWords = map[kb.Activity]string{
	kb.ActivityCeramics: "ceramika", kb.ActivitySoapMaking: "mydlarnia", kb.ActivityRestaurant: "restauracja",
	kb.ActivityCafe: "kawiarnia", kb.ActivityGardening: "ogrodnictwo", kb.ActivityPackaging: "konfekcjonowanie",
	kb.ActivityCoPacking: "co-packing", kb.ActivityLaundry: "pralnia", kb.ActivityCatering: "catering",
	kb.ActivityCleaning: "sprzątanie", kb.ActivityCrafts: "rękodzieło", kb.ActivityOther: "inne usługi",
}
