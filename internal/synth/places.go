package synth

import (
	"math"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// cityPoints are the WGS 84 coordinates (latitude, longitude; to about
// 1 km, the town centre) of every town the generator names, Polish and
// Swedish: the generated graph's entries are put on the map around them.
var cityPoints = map[string][2]float64{
	"Gębice": {52.87, 16.52}, "Poznań": {52.41, 16.93}, "Łężeczki": {52.61, 16.21}, "Kraków": {50.06, 19.94},
	"Gdańsk": {54.35, 18.65}, "Wrocław": {51.11, 17.03}, "Łódź": {51.76, 19.46}, "Szczecin": {53.43, 14.55},
	"Bydgoszcz": {53.12, 18.01}, "Lublin": {51.25, 22.57}, "Białystok": {53.13, 23.16}, "Katowice": {50.26, 19.02},
	"Gniezno": {52.54, 17.60}, "Kalisz": {51.76, 18.09}, "Piła": {53.15, 16.74}, "Konin": {52.22, 18.25},
	"Leszno": {51.84, 16.57}, "Śrem": {52.09, 17.02}, "Września": {52.33, 17.57}, "Oborniki": {52.65, 16.81},
	"Czarnków": {52.90, 16.56}, "Chodzież": {52.99, 16.92}, "Złotów": {53.36, 17.04}, "Wągrowiec": {52.81, 17.20},
	"Kościan": {52.09, 16.65}, "Środa Wielkopolska": {52.23, 17.28}, "Żary": {51.64, 15.14},
	"Świebodzin": {52.25, 15.53}, "Zielona Góra": {51.94, 15.51}, "Toruń": {53.01, 18.60},
	"Olsztyn": {53.78, 20.48}, "Rzeszów": {50.04, 22.00}, "Kielce": {50.87, 20.63}, "Opole": {50.67, 17.93},
	"Płock": {52.55, 19.71}, "Radom": {51.40, 21.15}, "Częstochowa": {50.81, 19.12}, "Tarnów": {50.01, 20.99},
	"Nowy Sącz": {49.62, 20.69}, "Zamość": {50.72, 23.25}, "Łomża": {53.18, 22.06}, "Żagań": {51.62, 15.32},
	"Ełk": {53.83, 22.36}, "Słupsk": {54.46, 17.03}, "Świdnica": {50.84, 16.49}, "Głogów": {51.66, 16.08},
	"Warszawa": {52.23, 21.01},

	"Stockholm": {59.33, 18.07}, "Sundbyberg": {59.36, 17.97}, "Rimbo": {59.74, 18.37}, "Göteborg": {57.71, 11.97},
	"Malmö": {55.60, 13.00}, "Uppsala": {59.86, 17.64}, "Västerås": {59.61, 16.55}, "Örebro": {59.27, 15.21},
	"Linköping": {58.41, 15.62}, "Norrköping": {58.59, 16.18}, "Jönköping": {57.78, 14.16}, "Umeå": {63.83, 20.26},
	"Gävle": {60.67, 17.14}, "Borås": {57.72, 12.94}, "Södertälje": {59.20, 17.63}, "Växjö": {56.88, 14.81},
	"Luleå": {65.58, 22.15}, "Östersund": {63.18, 14.64},
}

// jitterKm is how far from its town's centre a generated point may lie,
// north-south and east-west: the spread of a town and its surroundings,
// so that a small map area holds a few entries and a wide one thousands.
const jitterKm = 6

// unplacedOneIn says that one entry in this many has a town but no point,
// as entries whose address was never geocoded: the map filters then have
// entities without places to pass over at every scale.
const unplacedOneIn = 8

// locate gives p, the place of entity i, a point near its town, or none
// (one in unplacedOneIn, or a town without coordinates). The point comes
// from a hash of the seed and i, not from the entity's random stream, so
// that every other field of the graph stays what it was before points.
func (g *Graph) locate(i int, p *kb.Place) {
	c, ok := cityPoints[p.City]
	if !ok {
		return
	}
	h := mix(mix(g.Seed^saltPlaces) ^ uint64(i))
	if h%unplacedOneIn == 0 {
		return
	}
	// Two independent numbers in [-1, 1) from the hash's upper bits.
	u := float64(h>>43)/float64(1<<20) - 1
	v := float64(h>>22&(1<<21-1))/float64(1<<20) - 1
	const kmPerDegree = math.Pi * kb.EarthRadiusKm / 180
	// One allocation for both coordinates: the bulk load reads a
	// million entities.
	pt := &[2]float64{
		round5(c[0] + u*jitterKm/kmPerDegree),
		round5(c[1] + v*jitterKm/(kmPerDegree*math.Cos(c[0]*math.Pi/180))),
	}
	p.Latitude, p.Longitude = &pt[0], &pt[1]
}

// mix is SplitMix64's finaliser: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// round5 rounds a coordinate to 5 decimals (about a metre), the precision
// of a gazetteer's point.
func round5(x float64) float64 { return math.Round(x*1e5) / 1e5 }
