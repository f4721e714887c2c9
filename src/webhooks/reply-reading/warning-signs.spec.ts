import { describe, expect, it } from '@jest/globals';
import { redFlagsIn, type RedFlag } from './red-flags.js';

describe('redFlagsIn', () => {
  it.each<[string, RedFlag]>([
    ['chest pain', 'chest'],
    ['I have CHEST PAINS since this morning', 'chest'],
    ['my chest pressure is back', 'chest'],
    ['chest tight when I walk', 'chest'],
    ['Chest tightness', 'chest'],
    ['my chest feels tight', 'chest'],
    ['pressure in my chest', 'chest'],
    ['pain in the chest', 'chest'],
    ['tight chest', 'chest'],
    ["I can't breathe", 'breathing'],
    ['I can\u2019t breathe properly', 'breathing'],
    ['cant breathe', 'breathing'],
    ['cannot breathe', 'breathing'],
    ['can not breathe', 'breathing'],
    ["can't catch my breath", 'breathing'],
    ['short of breath', 'breathing'],
    ['Shortness of breath today', 'breathing'],
    ['trouble breathing', 'breathing'],
    ['hard to breathe', 'breathing'],
    ['think im having a heart attack', 'heart-attack'],
    ['HEART ATTACK?', 'heart-attack'],
    ['pain in my arm', 'arm-or-jaw'],
    ['pain down my left arm', 'arm-or-jaw'],
    ['the pain is spreading down my arm', 'arm-or-jaw'],
    ['pain shooting into my right arm', 'arm-or-jaw'],
    ['jaw pain', 'arm-or-jaw'],
    ['pain in my jaw too', 'arm-or-jaw'],
    ['my jaw hurts', 'arm-or-jaw'],
    ['hand is numb', 'numbness'],
    ['numbness in my fingers', 'numbness'],
    ['my arm went numb', 'numbness'],
    ['fainting', 'fainting'],
    ['I fainted at work', 'fainting'],
    ['feel faint', 'fainting'],
    ['passed out last night', 'fainting'],
    ['nearly blacked out', 'fainting'],
  ])('finds a warning sign in %p (%s)', (text, flag) => {
    expect(redFlagsIn(text)).toContain(flag);
  });

  it.each([
    '7',
    'my back is much better today',
    'what number should I reply with?',
    'a faint ache between the shoulder blades',
    'my armpit is sore from the foam roller',
    'neck feels stiff',
    'chesty cough',
    'breathing exercises help',
    'thanks!',
    '',
  ])('finds nothing in %p', (text) => {
    expect(redFlagsIn(text)).toEqual([]);
  });

  it('matches a negation too, erring on the safe side', () => {
    expect(redFlagsIn('no chest pain, just my back')).toEqual(['chest']);
  });

  it('lists every sign a message mentions', () => {
    expect(redFlagsIn('chest pain and short of breath, left arm pain down my arm')).toEqual([
      'chest',
      'breathing',
      'arm-or-jaw',
    ]);
  });
});
