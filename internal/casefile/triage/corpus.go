package triage

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The generated corpus: for each category, narratives assembled from an
// opening, one or two sentences of facts, details, an optional priority cue
// and a closing, with slots filled from vocabularies, then noise (accents
// dropped, letters swapped, sentences shared by every category). Written for
// Vigie; deterministic for a seed.

// DefaultSeed and DefaultSize make the default training corpus.
const (
	DefaultSeed = 2026
	DefaultSize = 3600
)

var slots = map[string][]string{
	"when": {"hier soir", "ce matin", "samedi dernier", "dans la nuit de vendredi à samedi", "lundi vers 14h",
		"le 12 mars", "il y a trois jours", "pendant mes vacances", "la semaine dernière", "dimanche après-midi",
		"entre 22h et 6h", "le week-end dernier", "mardi en fin de journée", "au début du mois"},
	"place": {"au marché", "dans le bus", "à la gare", "sur le parking du supermarché", "devant la boulangerie",
		"dans le métro", "au centre commercial", "à la sortie du cinéma", "dans un bar", "sur la plage",
		"au festival", "dans le tramway", "à la piscine municipale", "en terrasse d'un café"},
	"home": {"maison", "appartement", "résidence secondaire", "pavillon", "logement", "studio", "garage", "cave"},
	"entry": {"la porte d'entrée a été forcée", "une fenêtre a été brisée", "la serrure a été fracturée",
		"la baie vitrée a été cassée", "ils sont passés par le balcon", "le volet a été arraché",
		"la porte du garage a été forcée au pied de biche"},
	"loot": {"des bijoux", "un ordinateur portable", "une télévision", "de l'argent liquide", "une console de jeux",
		"une montre de valeur", "des outils", "une tablette", "un appareil photo", "des papiers d'identité"},
	"object": {"mon téléphone portable", "mon sac à main", "mon portefeuille", "mon vélo", "ma sacoche",
		"mes écouteurs", "mon ordinateur", "ma trottinette électrique", "mon sac à dos", "mon smartphone"},
	"vehicle": {"ma voiture", "mon véhicule", "ma moto", "mon scooter", "mon utilitaire", "mon camping-car",
		"ma camionnette", "mon deux-roues"},
	"vplace": {"garé devant chez moi", "stationné dans la rue", "garé sur le parking de la résidence",
		"stationné près de la gare", "garé dans le parking souterrain", "laissé sur le parking de mon travail"},
	"damaged": {"ma voiture", "ma boîte aux lettres", "la façade de ma maison", "mon portail", "ma clôture",
		"la vitrine de mon commerce", "mon véhicule", "les pneus de ma voiture", "le rétroviseur", "ma porte"},
	"dmg": {"rayé sur toute la longueur", "tagué", "cassé", "crevé", "brisé à coups de pierre", "dégradé",
		"incendié", "défoncé", "vandalisé", "peint à la bombe"},
	"site": {"leboncoin", "un site de petites annonces", "vinted", "facebook marketplace", "un site internet",
		"une boutique en ligne", "un site de vente entre particuliers", "instagram"},
	"goods": {"une console", "un canapé", "des pneus", "un téléphone", "un vélo électrique", "des billets de concert",
		"une machine à laver", "des vêtements", "une poussette", "un ordinateur"},
	"pay": {"par virement", "par carte bancaire", "avec un coupon", "par paypal", "par virement instantané",
		"en envoyant des cartes prépayées", "par mandat"},
	"scamhook": {"un faux conseiller de ma banque", "une personne se présentant comme agent du support technique",
		"un prétendu investisseur en cryptomonnaie", "un faux livreur", "une personne rencontrée sur un site de rencontre",
		"un individu se disant huissier", "un faux service des impôts", "un soi-disant conseiller en placement"},
	"harasser": {"un ancien compagnon", "un inconnu", "une personne que je ne connais pas", "un ancien collègue",
		"plusieurs comptes anonymes", "mon ex", "un camarade de classe de ma fille"},
	"network": {"sur instagram", "sur facebook", "par sms", "sur snapchat", "par messagerie", "sur tiktok",
		"sur whatsapp", "par e-mail", "sur un forum"},
}

// A template is a sentence with {slot}s.
var templates = map[string][]string{
	"theft": {
		"{when} {place} on m'a volé {object}.",
		"je me suis fait voler {object} {place} {when}.",
		"{object} a disparu de ma poche {place}, je pense à un pickpocket.",
		"un individu a arraché {object} {place} et s'est enfui en courant.",
		"on m'a dérobé {object} pendant que j'étais distrait {place}.",
		"j'ai constaté le vol de {object} {when} {place}, il était dans mon sac.",
		"quelqu'un a subtilisé {object} posé sur la table {place}.",
	},
	"burglary": {
		"{when} ma {home} a été cambriolée, {entry}.",
		"en rentrant {when} j'ai découvert que {entry} et que {loot} avaient été volés.",
		"des cambrioleurs sont entrés dans mon {home} {when} et ont pris {loot}.",
		"effraction à mon domicile : {entry}, les pièces ont été fouillées.",
		"{loot} ont disparu de mon {home}, {entry}.",
		"cambriolage de mon {home} pendant notre absence, {entry}, {loot} emportés.",
	},
	"vehicle_theft": {
		"{when} {vehicle} {vplace} a été volé.",
		"je ne retrouve plus {vehicle} que j'avais {vplace}, il a été volé.",
		"vol de {vehicle} {when}, il était {vplace}, je n'ai prêté les clés à personne.",
		"{vehicle} a disparu {when} alors qu'il était {vplace}, la plaque est relevée sur mon certificat.",
		"on m'a volé {vehicle} {vplace}, des débris de verre étaient au sol à la place.",
	},
	"damage": {
		"{when} {damaged} a été {dmg}.",
		"j'ai découvert {when} que {damaged} avait été {dmg} par un inconnu.",
		"dégradation volontaire : {damaged} {dmg} pendant la nuit.",
		"des jeunes ont {dmg} {damaged} {when}, les dégâts sont importants.",
		"{damaged} a été {dmg}, je dois faire faire un devis de réparation pour l'assurance.",
	},
	"card_fraud": {
		"j'ai constaté sur mon relevé des paiements par carte bancaire que je n'ai pas faits.",
		"des achats en ligne ont été débités sur mon compte avec ma carte alors que je l'ai toujours en ma possession.",
		"ma banque m'a signalé des opérations frauduleuses avec ma carte bleue {when}.",
		"plusieurs prélèvements inconnus par carte ont été faits à l'étranger, ma carte n'a pas été perdue.",
		"utilisation frauduleuse de ma carte bancaire : retraits et paiements que je conteste.",
		"mon numéro de carte a été utilisé sur des sites marchands sans mon accord, j'ai fait opposition.",
	},
	"online_scam": {
		"j'ai été contacté par {scamhook} qui m'a demandé de faire un virement vers un iban pour sécuriser mon compte.",
		"{scamhook} m'a convaincu d'investir et de verser de l'argent {pay}, je n'ai jamais pu récupérer les fonds.",
		"escroquerie : {scamhook} m'a fait valider des opérations au téléphone, l'argent est parti sur un autre compte.",
		"après un appel de {scamhook} j'ai transféré de l'argent {pay} sur le rib qu'il m'a donné.",
		"{scamhook} m'a promis des gains, j'ai envoyé de l'argent {pay} et le site a disparu.",
		"arnaque au faux conseiller : j'ai donné mes codes à {scamhook} et un virement a été fait à mon insu.",
	},
	"non_delivery": {
		"j'ai commandé {goods} sur {site} et payé {pay}, je n'ai jamais reçu le colis.",
		"le vendeur de {goods} sur {site} a encaissé mon paiement puis ne répond plus, rien n'a été livré.",
		"achat de {goods} sur {site} {when}, payé {pay}, aucune livraison et le vendeur a supprimé son compte.",
		"commande jamais livrée : {goods} réglé {pay} sur {site}, le suivi du colis est faux.",
		"j'ai payé {goods} {pay} à un vendeur de {site} qui devait l'expédier, je n'ai rien reçu.",
	},
	"fake_ad": {
		"une annonce sur {site} proposait {goods} à un prix très bas, le vendeur m'a demandé un acompte et l'annonce était fausse.",
		"j'ai répondu à une fausse annonce de location sur {site}, le propriétaire n'existait pas et j'ai versé une caution.",
		"annonce frauduleuse sur {site} : photos copiées d'un autre site, le vendeur voulait un paiement {pay} avant la visite.",
		"l'annonce de {goods} sur {site} était un leurre, le vendeur a utilisé une fausse identité.",
		"fausse annonce de location de vacances sur {site}, l'adresse n'existe pas, j'ai payé des arrhes {pay}.",
	},
	"online_harassment": {
		"je reçois des messages insultants {network} de la part de {harasser} depuis plusieurs semaines.",
		"{harasser} publie des photos de moi {network} et m'envoie des menaces.",
		"harcèlement {network} : {harasser} crée des faux comptes pour me dénigrer et m'insulter.",
		"{harasser} me harcèle {network} tous les jours, messages répétés et humiliants.",
		"des rumeurs et insultes sont diffusées {network} par {harasser}, ma fille ne veut plus aller au collège.",
		"{harasser} menace de publier des photos intimes {network} si je ne paie pas.",
	},
}

var details = []string{
	"je dispose de captures d'écran.", "j'ai gardé les factures.", "mon assurance me demande un dépôt de plainte.",
	"un voisin a peut-être vu quelque chose.", "je joins les relevés de ma banque.", "il y a une caméra dans la rue.",
	"je n'ai pas de soupçon particulier.", "je peux fournir les numéros de série.", "je suis disponible pour être entendu.",
	"j'ai prévenu ma banque.", "je n'ai pas d'autre information.",
}

// priority cues: the generator adds them for the priority it draws.
var cues = map[string][]string{
	"urgent": {"il a menacé de me tuer.", "je crains pour ma sécurité, il sait où j'habite.",
		"mon enfant est menacé et a peur de sortir.", "les menaces continuent en ce moment même.",
		"il m'a menacé avec une arme.", "la personne âgée concernée est très vulnérable et seule."},
	"high": {"j'ai perdu toutes mes économies.", "le préjudice dépasse plusieurs milliers d'euros.",
		"ma mère âgée de 85 ans a été visée.", "c'est la troisième fois cette année.",
		"d'autres victimes dans le quartier ont subi la même chose.", "le montant est de 15 000 euros."},
	"low": {"le préjudice est minime.", "c'est un objet sans grande valeur.", "il s'agit de quelques euros.",
		"je dépose plainte surtout pour l'assurance.", "les dégâts sont légers."},
	"normal": {"", "", "le montant est de 350 euros.", "je souhaite que l'affaire soit suivie."},
}

var openings = []string{"", "", "bonjour,", "madame, monsieur,", "je souhaite déposer plainte.", "je vous écris car",
	"je viens signaler des faits.", "voici les faits :"}

var closings = []string{"", "", "merci de votre aide.", "cordialement.", "je reste à votre disposition.",
	"merci de me recontacter."}

// shared sentences that every category may carry (confusers).
var shared = []string{"j'ai appelé ma banque.", "mon téléphone ne marche plus depuis.", "j'ai porté plainte en ligne.",
	"ma voiture était garée plus loin.", "j'ai acheté ce sac sur internet.", "je ne sais pas qui a fait ça.",
	"il y avait beaucoup de monde.", "j'ai reçu un sms bizarre."}

// Generate returns n narratives spread over the categories, deterministic
// for seed.
func Generate(seed uint64, n int) []Example {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cats := Categories()
	out := make([]Example, 0, n)
	for i := range n {
		cat := cats[i%len(cats)]
		pri := drawPriority(r, cat)
		out = append(out, Example{Text: narrative(r, cat, pri), Category: cat, Priority: pri})
	}
	return out
}

// Categories lists the categories the corpus covers, in a fixed order.
func Categories() []string {
	return []string{"theft", "burglary", "vehicle_theft", "damage", "card_fraud", "online_scam", "non_delivery",
		"fake_ad", "online_harassment"}
}

func drawPriority(r *rand.Rand, cat string) string {
	x := r.Float64()
	urgent := 0.05
	if cat == "online_harassment" {
		urgent = 0.3
	}
	switch {
	case x < urgent:
		return "urgent"
	case x < urgent+0.2:
		return "high"
	case x < urgent+0.4:
		return "low"
	}
	return "normal"
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

func fill(r *rand.Rand, t string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		j := strings.IndexByte(t[i:], '}') + i
		b.WriteString(t[:i])
		b.WriteString(pick(r, slots[t[i+1:j]]))
		t = t[j+1:]
	}
}

func narrative(r *rand.Rand, cat, pri string) string {
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	add(pick(r, openings))
	add(fill(r, pick(r, templates[cat])))
	if r.IntN(3) == 0 {
		add(fill(r, pick(r, templates[cat])))
	}
	for range r.IntN(3) {
		add(pick(r, details))
	}
	if r.IntN(4) == 0 {
		add(pick(r, shared))
	}
	add(pick(r, cues[pri]))
	add(pick(r, closings))
	s := strings.Join(parts, " ")
	return noise(r, s)
}

// noise drops accents, swaps letters, changes case, as people type.
func noise(r *rand.Rand, s string) string {
	if r.IntN(4) == 0 {
		s = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "à", "a", "ç", "c", "ô", "o", "î", "i").Replace(s)
	}
	if r.IntN(3) == 0 {
		b := []byte(s)
		for range 1 + r.IntN(3) {
			i := r.IntN(max(len(b)-1, 1))
			if b[i] >= 'a' && b[i] <= 'z' && b[i+1] >= 'a' && b[i+1] <= 'z' {
				b[i], b[i+1] = b[i+1], b[i]
			}
		}
		s = string(b)
	}
	if r.IntN(5) == 0 && s != "" && s[0] < 0x80 {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if r.IntN(10) == 0 {
		s = strings.ToUpper(s)
	}
	return s
}

// String describes an example (tests).
func (e Example) String() string { return fmt.Sprintf("%s/%s: %s", e.Category, e.Priority, e.Text) }
