import { describe, expect, it } from '@jest/globals';
import { languageOf } from './language.js';

describe('languageOf', () => {
  it.each([
    'si',
    'de la el los las y que',
    'por favor para gracias hola',
    'tengo estoy duele dolor',
    'pecho espalda mi mas mensajes',
    'muy hoy ayer bien mal con se',
    'un una es esta',
    'parar baja alto cancelar ayuda',
    'fiebre brazo cuello creo siento voy',
    'cada vez peor mejor quiero entiendo',
    'comenzar empezar respirar cuesta casi',
    'qué',
    'ÁNIMO',
    'mañana',
    '¿ok?',
    '¡ok!',
    'él',
    'tú',
    'sí',
    'acción',
  ])('reads %p as Spanish', (body) => {
    expect(languageOf(body)).toBe('es');
  });

  it.each([
    '',
    'ok',
    '7',
    'STOP',
    'no',
    // each English marker outweighs one Spanish word
    'i hola',
    'im hola',
    'my hola',
    'the hola',
    'and hola',
    'is hola',
    'it hola',
    'to hola',
    'of hola',
    'you hola',
    'your hola',
    'this hola',
    'that hola',
    'in hola',
    'with hola',
    'have hola',
    'had hola',
    'feel hola',
    'pain hola',
    'back hola',
    'stop hola',
    'please hola',
    'thanks hola',
    'thank hola',
    'help hola',
    'yes hola',
    'not hola',
    'today hola',
    'can hola',
    'what hola',
    'how hola',
    'do hola',
    'dont hola',
    // a tie is English
    'gracias thanks',
  ])('reads %p as English', (body) => {
    expect(languageOf(body)).toBe('en');
  });

  it('counts every marker word, not just whether there is one', () => {
    expect(languageOf('me duele mucho el pecho y and my back')).toBe('es'); // 4 : 3
    expect(languageOf('me duele the chest and my back')).toBe('en'); // 1 : 3
    expect(languageOf('muchas gracias, me ayuda mucho con el dolor')).toBe('es');
  });
});
