"""Story grammar for the layerlens demo model: TinyStories-like short stories with planted structure.

Every story is built from a seeded random.Random, so the corpus is a pure function of the seed.
Planted structure (what the lens / skip / probe pillars should find):
  * pronoun agreement: one named character (gender from the name; the words girl/boy appear only in
    some intros) referred back to by he/she/his/her. A sentence starting with "Then" or a clause
    after "because" always continues with the character's pronoun;
  * colour recall: an object with a colour mentioned early ("She had a red ball."), often again
    ("She played with her red ball."), sometimes a distractor object with another colour, and late in
    the story "What colour was the ball? It was red." (then the same question about the distractor);
  * counting: "He counted the stars: three, four, five, six." (consecutive number words from a random start);
  * mood: every story is happy or sad; mood words and sentences agree with it.
"""
from dataclasses import dataclass, field
import random

GIRL_NAMES = ['Lily', 'Mia', 'Anna', 'Sue', 'Emma', 'Zoe', 'Lucy', 'Rose', 'Amy', 'Kate', 'Ella', 'Sara',
              'Jane', 'Ruby', 'Nora', 'Ivy']
BOY_NAMES = ['Tom', 'Ben', 'Sam', 'Max', 'Leo', 'Jack', 'Tim', 'Finn', 'Bob', 'Dan', 'Joe', 'Luke',
             'Noah', 'Adam', 'Paul', 'Ned']
COLOURS = ['red', 'blue', 'green', 'yellow', 'pink', 'white', 'black', 'purple', 'brown', 'orange']
OBJECTS = ['ball', 'kite', 'hat', 'cup', 'box', 'car', 'boat', 'bag', 'book', 'sock', 'drum', 'bike',
           'doll', 'coat', 'shoe', 'bell']
COUNTABLES = ['stars', 'birds', 'apples', 'ducks', 'rocks', 'cats', 'trees', 'fish', 'eggs', 'flowers']
NUMBERS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']
HAPPY_WORDS = ['happy', 'glad', 'excited', 'proud', 'cheerful', 'joyful']
SAD_WORDS = ['sad', 'upset', 'lonely', 'grumpy', 'gloomy', 'unhappy']
PLACES = ['park', 'beach', 'garden', 'forest', 'lake', 'farm', 'zoo', 'shop', 'hill', 'school']
TRAITS = ['kind', 'brave', 'small', 'funny', 'curious', 'quiet', 'clever', 'shy']
RELATIVES = ['mom', 'dad', 'grandma', 'grandpa', 'aunt', 'uncle', 'friend', 'teacher']

# Colour facts: make each colour word predictable somewhere, so the model has to keep the colours
# apart (a corpus where colours are interchangeable everywhere except at recall lets them collapse).
COLOUR_FACTS = ['The grass was green.', 'The sky was blue.', 'The snow was white.', 'The sun was yellow.',
                'The night was black.', 'The mud was brown.']
OBJECT_ADJECTIVES = ['shiny', 'new', 'old', 'big', 'small', 'soft']
FILLERS = COLOUR_FACTS + [
    'The sun was warm.', 'The sky was clear.', 'The birds sang in the trees.', 'A little dog ran by.',
    'The wind was soft.', 'It was a nice day.', 'The grass was wet.', 'A cat slept on the wall.',
    'The trees were tall.', 'A frog jumped into the pond.', 'The clouds moved slowly.',
    'There were many people.', 'A bee flew past.', 'The water was cold.',
]
HAPPY_SENTENCES = ['{P} smiled and laughed.', '{P} danced around.', '{P} sang a happy song.',
                   '{P} clapped {p2} hands.', '{P} jumped for joy.']
SAD_SENTENCES = ['{P} cried and cried.', '{P} sat down alone.', '{P} did not want to play.',
                 '{P} looked at the ground.', '{P} wiped {p2} tears.']
THEN_ACTIONS = ['went home', 'ran to the {place}', 'sat under a tree', 'ate an apple', 'took a nap',
                'looked around', 'walked to the {place}', 'called {p2} {rel}', 'played for a while',
                'drank some water']
BECAUSE_HAPPY = ['liked the {place}', 'had a new friend', 'found a nice stone', 'saw a rainbow']
BECAUSE_SAD = ['lost {p2} way', 'missed {p2} {rel}', 'fell down', 'was very tired']


@dataclass
class Character:
    name: str
    gender: str  # 'female' | 'male'

    @property
    def subj(self):
        return 'she' if self.gender == 'female' else 'he'

    @property
    def poss(self):
        return 'her' if self.gender == 'female' else 'his'

    @property
    def noun(self):
        return 'girl' if self.gender == 'female' else 'boy'


@dataclass
class Story:
    """A generated story plus the facts planted in it (for evaluation and probing sets)."""
    text: str
    character: Character
    mood: str  # 'happy' | 'sad'
    obj: str
    colour: str
    distractor: tuple = None  # (colour, object) or None
    counting: list = field(default_factory=list)  # number words, in order, when the story counts
    sentences: list = field(default_factory=list)


def article(word):
    return 'an' if word[0] in 'aeiou' else 'a'


def cap(s):
    return s[0].upper() + s[1:]


def pick_character(rng):
    gender = rng.choice(['female', 'male'])
    return Character(rng.choice(GIRL_NAMES if gender == 'female' else BOY_NAMES), gender)


def intro(rng, c):
    return rng.choice([
        f'Once upon a time, there was a little {c.noun} named {c.name}.',
        f'{c.name} was a {rng.choice(TRAITS)} {c.noun} who lived near the {rng.choice(PLACES)}.',
        f'One day, {c.name} went to the {rng.choice(PLACES)}.',
        f'There was a {rng.choice(TRAITS)} child called {c.name}.',
        f'{c.name} woke up early in the morning.',
    ])


def object_sentence(rng, c, colour, obj, first):
    who = c.name if first else cap(c.subj)
    return rng.choice([
        f'{who} had {article(colour)} {colour} {obj}.',
        f'{who} found {article(colour)} {colour} {obj} under the tree.',
        f'{who} got {article(colour)} {colour} {obj} from {c.poss} {rng.choice(RELATIVES)}.',
        f'{who} loved {c.poss} {colour} {obj}.',
    ])


def then_sentence(rng, c):
    action = rng.choice(THEN_ACTIONS).format(place=rng.choice(PLACES), p2=c.poss, rel=rng.choice(RELATIVES))
    return f'Then {c.subj} {action}.'


def mood_sentence(rng, c, mood):
    word = rng.choice(HAPPY_WORDS if mood == 'happy' else SAD_WORDS)
    reasons = BECAUSE_HAPPY if mood == 'happy' else BECAUSE_SAD
    reason = rng.choice(reasons).format(place=rng.choice(PLACES), p2=c.poss, rel=rng.choice(RELATIVES))
    return rng.choice([
        f'{c.name} felt {word} because {c.subj} {reason}.',
        f'{cap(c.subj)} was very {word}.',
        f'{c.name} was {word} that day.',
    ])


def mood_action(rng, c, mood):
    s = rng.choice(HAPPY_SENTENCES if mood == 'happy' else SAD_SENTENCES)
    return s.format(P=cap(c.subj), p2=c.poss)


def counting_sentence(rng, c):
    n = rng.randint(3, 6)
    start = rng.randint(0, len(NUMBERS) - n)
    seq = NUMBERS[start:start + n]
    who = rng.choice([c.name, cap(c.subj)])
    return f'{who} counted the {rng.choice(COUNTABLES)}: {", ".join(seq)}.', seq


def ending(rng, c, mood):
    word = rng.choice(HAPPY_WORDS if mood == 'happy' else SAD_WORDS)
    return rng.choice([
        f'At the end of the day, {c.subj} was {word}.',
        f'That night, {c.name} went to bed {word}.',
        'The end.',
    ])


def make_story(rng):
    """One story drawn from `rng`."""
    c = pick_character(rng)
    mood = rng.choice(['happy', 'sad'])
    colour, obj = rng.choice(COLOURS), rng.choice(OBJECTS)
    distractor = None
    if rng.random() < 0.5:
        distractor = (rng.choice([x for x in COLOURS if x != colour]), rng.choice([x for x in OBJECTS if x != obj]))
    counting = []

    s = [intro(rng, c)]
    if rng.random() < 0.5:
        s.append(rng.choice(FILLERS))
    s.append(object_sentence(rng, c, colour, obj, first=rng.random() < 0.5))
    if rng.random() < 0.4:
        s.append(f'The {obj} was {colour} and {rng.choice(OBJECT_ADJECTIVES)}.')
    middle = [mood_sentence(rng, c, mood), mood_action(rng, c, mood), then_sentence(rng, c)]
    if distractor:
        middle.append(f'{cap(c.subj)} also saw {article(distractor[0])} {distractor[0]} {distractor[1]}.')
    if rng.random() < 0.7:
        middle.append(f'{cap(c.subj)} played with {c.poss} {colour} {obj}.')
    if rng.random() < 0.5:
        sentence, counting = counting_sentence(rng, c)
        middle.append(sentence)
    middle += rng.sample(FILLERS, rng.randint(1, 2))
    if rng.random() < 0.5:
        middle.append(then_sentence(rng, c))
    rng.shuffle(middle)
    s += middle
    s.append(f'What colour was the {obj}? It was {colour}.')
    if distractor:
        s.append(f'What colour was the {distractor[1]}? It was {distractor[0]}.')
    s.append(ending(rng, c, mood))
    return Story(' '.join(s), c, mood, obj, colour, distractor, counting, s)


def make_stories(seed, n):
    """`n` stories, a pure function of `seed`."""
    rng = random.Random(seed)
    return [make_story(rng) for _ in range(n)]


def task_prompts(story, rng):
    """Prompts cut from `story` whose next word is fixed by planted structure: [(task, prompt, answer)].
    pronoun: cut after the first "Then" (the answer is he/she); colour: cut after "It was" of the
    colour question; count: cut after two or more number words of the counting sentence."""
    out = []
    t = story.text
    i = t.index('Then ')
    out.append(('pronoun', t[:i + 4], story.character.subj))
    i = t.index('? It was ')
    out.append(('colour', t[:i + 8], story.colour))
    if story.counting:
        seq = story.counting
        k = rng.randint(2, len(seq) - 1)
        i = t.index(', '.join(seq))
        prefix = ', '.join(seq[:k]) + ','
        out.append(('count', t[:i + len(prefix)], seq[k]))
    return out


def colour_case(prompt, answer):
    """How hard a colour-recall prompt is: (times the answer colour is said in the prompt, whether another
    colour is said too: a distractor object or a colour fact, so copying any colour is not enough)."""
    words = prompt.replace('.', ' ').replace('?', ' ').replace(',', ' ').split()
    return words.count(answer), any(w in COLOURS and w != answer for w in words)


def gender_probe_example(rng):
    """A story opening where only the name tells the gender, ending just before a pronoun.
    Returns (text, label, name, (start, end) of the name)."""
    c = pick_character(rng)
    opening = rng.choice([
        f'One day, {c.name} went to the {rng.choice(PLACES)}.',
        f'There was a {rng.choice(TRAITS)} child called {c.name}.',
        f'{c.name} woke up early in the morning.',
    ])
    text = ' '.join([opening] + rng.sample(FILLERS, rng.randint(0, 2)) + ['Then'])
    start = text.index(c.name)
    return text, c.gender, c.name, (start, start + len(c.name))


def sentiment_probe_example(rng):
    """Two mood sentences of one character. Returns (text, label, mood word, (start, end) of the text)."""
    c = pick_character(rng)
    mood = rng.choice(['happy', 'sad'])
    first = mood_sentence(rng, c, mood)
    text = f'{first} {mood_action(rng, c, mood)}'
    word = next(w for w in HAPPY_WORDS + SAD_WORDS if f' {w} ' in f' {first[:-1]} ')
    return text, mood, word, (0, len(text))
