package kb

import (
	"math/rand/v2"
	"testing"
)

// TestCircleBoxHoldsTheCircle: every point within the radius lies in the
// box the index scans, including near the poles and the antimeridian.
func TestCircleBoxHoldsTheCircle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := func(b BBox, lat, lon float64) bool {
		if lat < b.South || lat > b.North {
			return false
		}
		if b.West <= b.East {
			return lon >= b.West && lon <= b.East
		}
		return lon >= b.West || lon <= b.East
	}
	for i := 0; i < 200000; i++ {
		c := Circle{Lat: r.Float64()*180 - 90, Lon: r.Float64()*360 - 180, RadiusKm: r.Float64() * 3000}
		lat, lon := r.Float64()*180-90, r.Float64()*360-180
		if DistanceKm(c.Lat, c.Lon, lat, lon) <= c.RadiusKm && !in(c.Box(), lat, lon) {
			t.Fatalf("%+v: (%v, %v) is %.1f km away but outside the box %+v", c, lat, lon, DistanceKm(c.Lat, c.Lon, lat, lon), c.Box())
		}
	}
	// Stockholm to Rimbo is about 50 km (both points are those of the
	// reference data).
	if d := DistanceKm(59.3293, 18.0686, 59.7446, 18.3687); d < 45 || d > 55 {
		t.Errorf("Stockholm-Rimbo: %.1f km", d)
	}
}

func TestCircleAndBoxValidate(t *testing.T) {
	for _, c := range []Circle{{91, 0, 1}, {0, 181, 1}, {0, 0, 0}, {0, 0, -1}, {0, 0, 30000}} {
		if !IsValidation(c.Validate("near")) {
			t.Errorf("%+v: want a validation error", c)
		}
	}
	if err := (Circle{52.4, 16.9, 50}).Validate("near"); err != nil {
		t.Error(err)
	}
	if !IsValidation(BBox{South: 10, North: 5, West: 0, East: 1}.Validate("within")) {
		t.Error("south of north: want a validation error")
	}
	if err := (BBox{South: 50, North: 60, West: 170, East: -170}).Validate("within"); err != nil {
		t.Error(err)
	}
}
